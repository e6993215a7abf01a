# nbgrader settings for a course made of mnist-ann's exercises: copy this file into the course folder.
# With them, `nbgrader generate_assignment` makes exactly the student notebooks that
# tools/make_student_versions.py makes (tests/test_nbgrader.py compares the two).
c = get_config()  # noqa: F821 (nbgrader provides get_config)

# The stub the exercises' text refers to: "replace the line raise NotImplementedError(...) with your code".
c.ClearSolutions.code_stub = {"python": 'raise NotImplementedError("replace this line with your code")'}
