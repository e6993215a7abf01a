"""Draw the walkthrough's pictures and embed each in its notebook as a cell attachment, from any folder:

    python tools/draw_figures.py            # draw, then embed each in the markdown cell that shows it
    python tools/draw_figures.py OUT_DIR    # only draw them, as PNG files in OUT_DIR

A picture lives inside its notebook (`![alt](attachment:name.png)`), so a notebook copied on its own still
shows it; tests/test_figures.py checks that this script still draws exactly the embedded pictures.
Matplotlib only. Each figure is 10 inches wide at 100 dpi, the width of a notebook cell, and uses the
Okabe-Ito colours, which readers with any common colour-vision deficiency can tell apart.
"""

import base64
import json
import sys
import tempfile
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
from matplotlib.patches import Circle, Ellipse, FancyArrowPatch, FancyBboxPatch, Rectangle

matplotlib.use("Agg")  # files only: no display needed, none opened

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
WIDTH, DPI = 10, 100

# Okabe-Ito: arrays going forward in blue, gradients going backward in vermillion, operations in orange.
BLUE, VERMILLION, ORANGE, GREEN = "#0072B2", "#D55E00", "#E69F00", "#009E73"
BLUE_TINT, VERMILLION_TINT = "#DCEBF5", "#F9E1D2"
GREY, LIGHT_GREY, INK = "#666666", "#C8C8C8", "#222222"


# ---- Drawing helpers. The axes are in inches, so sizes and gaps read as they will print. ----

def canvas(height):
    """A blank figure WIDTH x height inches whose data coordinates are inches from its bottom left."""
    figure = plt.figure(figsize=(WIDTH, height), dpi=DPI)
    axes = figure.add_axes([0, 0, 1, 1])
    axes.set_xlim(0, WIDTH)
    axes.set_ylim(0, height)
    axes.set_axis_off()
    return figure, axes


def save(figure, path):
    """Write a PNG without matplotlib's version in its metadata, so a re-draw gives the same bytes."""
    figure.savefig(path, dpi=DPI, metadata={"Software": None})
    plt.close(figure)


def arrow(axes, start, end, colour, width=2.0, head=16, **style):
    axes.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=head, color=colour,
                                   linewidth=width, shrinkA=0, shrinkB=0, **style))


def label(axes, x, y, words, size=12, colour=INK, **style):
    """Text centred at (x, y) unless ha/va say otherwise."""
    style = {"ha": "center", "va": "center", **style}
    axes.text(x, y, words, fontsize=size, color=colour, linespacing=1.4, **style)


def rounded_box(axes, centre, size, colour, fill):
    (x, y), (width, height) = centre, size
    axes.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height, linewidth=2,
                                  boxstyle="round,pad=0,rounding_size=0.1", edgecolor=colour, facecolor=fill))


def node(axes, centre, radius, words, colour, width=2.0):
    axes.add_patch(Circle(centre, radius, facecolor="white", edgecolor=colour, linewidth=width, zorder=3))
    label(axes, *centre, words, size=12, zorder=4)


# ---- (a) The network, 784 -> 128 -> 64 -> 10, with the shape of every array ----

LAYER_X = [1.0, 3.8, 6.6, 8.9]
LAYERS = [  # (title above the column, circles drawn before the ellipsis, arrays under the column)
    ("input:\n784 pixels", 4, r"$\mathbf{X}$" + "\n(B, 784)"),
    ("hidden layer 1:\n128 ReLU units", 4, r"$\mathbf{Z}_1$, $\mathbf{A}_1$" + "\n(B, 128)"),
    ("hidden layer 2:\n64 ReLU units", 4, r"$\mathbf{Z}_2$, $\mathbf{A}_2$" + "\n(B, 64)"),
    ("output:\none score per digit", 10, "logits\n(B, 10)"),
]
WEIGHTS = [r"$\mathbf{W}_1$ (784, 128)" + "\n" + r"$\mathbf{b}_1$ (128,)",
           r"$\mathbf{W}_2$ (128, 64)" + "\n" + r"$\mathbf{b}_2$ (64,)",
           r"$\mathbf{W}_3$ (64, 10)" + "\n" + r"$\mathbf{b}_3$ (10,)"]
TOP_UNIT, HIDDEN_GAP, OUTPUT_GAP, RADIUS = 4.7, 0.36, 0.235, 0.1


def unit_heights(shown):
    """y of each circle of a layer: all 10 outputs, or a few units, a gap for the ellipsis and the last unit."""
    if shown == 10:
        return [TOP_UNIT - k * OUTPUT_GAP for k in range(10)]
    return [TOP_UNIT - k * HIDDEN_GAP for k in range(shown)] + [TOP_UNIT - (shown + 1) * HIDDEN_GAP]


def draw_layer(axes, x, shown, colour):
    heights = unit_heights(shown)
    for y in heights:
        axes.add_patch(Circle((x, y), RADIUS, facecolor="white", edgecolor=colour, linewidth=2, zorder=3))
    if shown < 10:
        label(axes, x, TOP_UNIT - shown * HIDDEN_GAP + 0.03, r"$\vdots$", size=16, colour=colour)
    else:  # the outputs are few enough to name: one per digit
        for digit, y in enumerate(heights):
            label(axes, x + 0.25, y, str(digit), size=10, colour=GREY, ha="left")
    return heights


def draw_connections(axes, x_from, heights_from, x_to, heights_to):
    """Every unit feeds every unit of the next layer, each line one weight."""
    for y_from in heights_from:
        for y_to in heights_to:
            axes.plot([x_from, x_to], [y_from, y_to], color=LIGHT_GREY, linewidth=0.8, zorder=1)


def draw_network(path):
    figure, axes = canvas(6.0)
    heights = [draw_layer(axes, x, shown, GREEN if x == LAYER_X[-1] else BLUE)
               for x, (_, shown, _) in zip(LAYER_X, LAYERS)]
    for x, (title, _, arrays) in zip(LAYER_X, LAYERS):
        label(axes, x, 5.45, title, colour=GREY)
        label(axes, x, 1.85, arrays, size=13)
    for k, weights in enumerate(WEIGHTS):  # the data flow X -> A1 -> A2 -> logits, one arrow a layer
        draw_connections(axes, LAYER_X[k], heights[k], LAYER_X[k + 1], heights[k + 1])
        arrow(axes, (LAYER_X[k] + 0.65, 1.85), (LAYER_X[k + 1] - 0.65, 1.85), ORANGE, width=2.5)
        label(axes, (LAYER_X[k] + LAYER_X[k + 1]) / 2, 1.2, weights)
    label(axes, 0.15, 0.4, "B is the batch size: one image a row. Each orange arrow is one layer, "
          r"$\mathbf{Z} = \mathbf{A}\mathbf{W} + \mathbf{b}$," + "\n"
          r"where $\mathbf{A}$ is the layer's input ($\mathbf{X}$ for the first), then ReLU (except after the last).",
          size=11, colour=GREY, ha="left")
    save(figure, path)


# ---- (b) Softmax and cross-entropy as a computation graph, forward and backward ----

GRAPH_X, FORWARD_Y, BACKWARD_Y = [1.15, 3.75, 6.35, 8.95], 6.15, 4.65
VALUES = ["logits $\\mathbf{Z}$\n(B, C)", "$\\mathbf{P}$\n(B, C)", "$\\ell_i$\n(B,)", "$L$\nscalar"]
OPERATIONS = ["softmax\nof each row", "$-\\log$ of the\ntrue class's $P_{i y_i}$", "mean over\nthe batch"]
GRADIENTS = [r"$\partial L / \partial \mathbf{Z} = (\mathbf{P} - \mathbf{Y}) / B$",
             r"$\partial L / \partial P_{ic} = -Y_{ic} / (B\,P_{ic})$",
             r"$\partial L / \partial \ell_i = 1 / B$",
             r"$\partial L / \partial L = 1$"]


def draw_forward_and_backward(axes):
    """The four values in a row, and under them the gradients, computed right to left."""
    label(axes, 0.1, FORWARD_Y + 1.2, "forward: values, left to right", colour=BLUE, ha="left", fontweight="bold")
    label(axes, 0.1, BACKWARD_Y + 0.5, "backward: the gradient of L with respect to each value, right to left",
          colour=VERMILLION, ha="left", fontweight="bold")
    for x, value, gradient in zip(GRAPH_X, VALUES, GRADIENTS):
        rounded_box(axes, (x, FORWARD_Y), (1.3, 0.8), BLUE, BLUE_TINT)
        label(axes, x, FORWARD_Y, value, size=13)
        label(axes, x, BACKWARD_Y, gradient, size=13, colour=VERMILLION)
    for k, operation in enumerate(OPERATIONS):
        left, right = GRAPH_X[k] + 0.7, GRAPH_X[k + 1] - 0.7
        arrow(axes, (left, FORWARD_Y), (right, FORWARD_Y), BLUE)
        label(axes, (left + right) / 2, FORWARD_Y + 0.75, operation, colour=GREY)
    for left, right in [(2.0, 2.75), (4.75, 5.7), (6.95, 8.4)]:  # in the gaps between the gradients' labels
        arrow(axes, (right, BACKWARD_Y), (left, BACKWARD_Y), VERMILLION)
    label(axes, 2.37, BACKWARD_Y - 0.42, "adds C paths:\nsee below", size=10, colour=GREY)


def draw_paths(axes):
    """One example, C = 4: logit z_2 reaches the loss through every probability; the chain rule adds the paths."""
    logits_x, probabilities_x, loss_x, heights = 0.9, 2.9, 4.6, [3.05, 2.25, 1.45, 0.65]
    label(axes, 0.1, 3.8, "One example $i$, $C = 4$ classes: each logit reaches the loss through all $C$ "
          "probabilities", ha="left", fontweight="bold")
    for c, y_from in enumerate(heights):
        for y_to in heights:  # softmax: every probability depends on every logit of its row
            axes.plot([logits_x, probabilities_x], [y_from, y_to], zorder=1, color=VERMILLION if c == 1
                      else LIGHT_GREY, linewidth=2.2 if c == 1 else 1.0)
        axes.plot([probabilities_x, loss_x], [y_from, 1.85], color=VERMILLION, linewidth=2.2, zorder=1)
        node(axes, (logits_x, y_from), 0.3, f"$z_{{i{c + 1}}}$", VERMILLION if c == 1 else BLUE)
        node(axes, (probabilities_x, y_from), 0.3, f"$P_{{i{c + 1}}}$", BLUE)
    node(axes, (loss_x, 1.85), 0.3, r"$\ell_i$", BLUE)
    label(axes, 5.3, 2.65, "A change in $z_{i2}$ moves every $P_{ic}$: they share one sum.\n"
          r"Each $P_{ic}$ is an input of $\ell_i = -\Sigma_c\, Y_{ic}\, \log P_{ic}$," + "\n"
          "and the chain rule adds up the $C$ paths:", ha="left")
    label(axes, 5.3, 1.25, r"$\dfrac{\partial \ell_i}{\partial z_{i2}} = \sum_{c=1}^{C}\; "
          r"\dfrac{\partial \ell_i}{\partial P_{ic}}\,\dfrac{\partial P_{ic}}{\partial z_{i2}} = P_{i2} - Y_{i2}$",
          size=14, colour=VERMILLION, ha="left")


def draw_softmax_cross_entropy_graph(path):
    figure, axes = canvas(7.6)
    draw_forward_and_backward(axes)
    draw_paths(axes)
    save(figure, path)


# ---- (c) One layer, Z = X W + b, forward and backward, every factor drawn to its shape ----

# Inches per unit of each dimension, so a product's inner dimensions visibly match.
SIDE = {"B": 0.7, "in": 1.15, "out": 0.55, "1": 0.14}
LAYER_ROWS = [  # (caption, y of the row, items: (name, rows, columns, gradient?) or an operator)
    ("forward\n" + r"$\mathbf{Z} = \mathbf{X}\mathbf{W} + \mathbf{b}$", 6.25,
     [(r"$\mathbf{Z}$", "B", "out", False), "=", (r"$\mathbf{X}$", "B", "in", False),
      (r"$\mathbf{W}$", "in", "out", False), "+", (r"$\mathbf{b}$", "1", "out", False)]),
    ("backward, to the input\n" + r"$\mathrm{d}\mathbf{X} = \mathrm{d}\mathbf{Z}\,\mathbf{W}^\top$", 4.45,
     [(r"$\mathrm{d}\mathbf{X}$", "B", "in", True), "=", (r"$\mathrm{d}\mathbf{Z}$", "B", "out", True),
      (r"$\mathbf{W}^\top$", "out", "in", False)]),
    ("to the weights\n" + r"$\mathrm{d}\mathbf{W} = \mathbf{X}^\top\mathrm{d}\mathbf{Z}$", 2.6,
     [(r"$\mathrm{d}\mathbf{W}$", "in", "out", True), "=", (r"$\mathbf{X}^\top$", "in", "B", False),
      (r"$\mathrm{d}\mathbf{Z}$", "B", "out", True)]),
    ("to the bias\n" + r"$\mathrm{d}\mathbf{b}$ = column sums of $\mathrm{d}\mathbf{Z}$", 0.85,
     [(r"$\mathrm{d}\mathbf{b}$", "1", "out", True), "=", r"$\sum_{\mathrm{rows}}$",
      (r"$\mathrm{d}\mathbf{Z}$", "B", "out", True)]),
]
NOTES = {  # why, to the right of a row
    0: r"$\mathbf{b}$ is added to every row",
    2: "sums over the B examples",
    3: r"$\mathbf{b}$ reached every row," + "\nso its gradient adds them",
}
MATRIX_START, OPERATOR_WIDTH, PRODUCT_GAP = 3.3, 0.55, 0.15


def shape_text(rows, columns):
    return f"({columns},)" if rows == "1" else f"({rows}, {columns})"


def draw_matrix(axes, left, y, item, shape_y):
    """One array as a rectangle of its shape, its name inside (above a bias bar) and its shape at shape_y."""
    name, rows, columns, gradient = item
    width, height = SIDE[columns], SIDE[rows]
    axes.add_patch(Rectangle((left, y - height / 2), width, height, linewidth=2,
                             edgecolor=VERMILLION if gradient else BLUE,
                             facecolor=VERMILLION_TINT if gradient else BLUE_TINT))
    label(axes, left + width / 2, y + (0.3 if rows == "1" else 0), name, size=13)
    label(axes, left + width / 2, shape_y, shape_text(rows, columns), size=11, colour=GREY)
    return left + width


def draw_row(axes, y, items):
    """Lay out one equation left to right, with a line of shapes under it that reads as the same equation.
    Returns where the row ends."""
    shape_y = y - max(SIDE[item[1]] for item in items if isinstance(item, tuple)) / 2 - 0.25
    x, previous = MATRIX_START, None
    for item in items:
        if isinstance(item, str):
            label(axes, x + OPERATOR_WIDTH / 2, y, item, size=16 if len(item) == 1 else 14)
            if len(item) == 1:  # = and + again between the shapes
                label(axes, x + OPERATOR_WIDTH / 2, shape_y, item, size=11, colour=GREY)
            x += OPERATOR_WIDTH + (0.3 if len(item) > 1 else 0)
        else:
            x += PRODUCT_GAP if isinstance(previous, tuple) else 0  # two arrays side by side are a product
            x = draw_matrix(axes, x, y, item, shape_y)
        previous = item
    return x


def draw_layer_forward_backward(path):
    figure, axes = canvas(7.5)
    label(axes, 0.1, 7.15, "B examples, in inputs, out outputs. Each gradient has the shape of its array, "
          "and the shapes\nleave one way to multiply: the inner sizes must match.", size=11, colour=GREY, ha="left")
    for index, (caption, y, items) in enumerate(LAYER_ROWS):
        label(axes, 0.1, y, caption, size=13, colour=BLUE if index == 0 else VERMILLION, ha="left")
        end = draw_row(axes, y, items)
        if index in NOTES:
            label(axes, end + 0.45, y, NOTES[index], size=11, colour=GREY, ha="left")
    save(figure, path)

# ---- (d) The IDX header of the training images, byte by byte (notebook 01) ----

IDX_BYTES = ["00", "00", "08", "03", "00", "00", "ea", "60", "00", "00", "00", "1c", "00", "00", "00", "1c"]
IDX_FIELDS = [  # (first byte, last byte, colour, what the bytes mean)
    (0, 3, ORANGE, "magic number: 0, 0, then\nthe element type (0x08:\nbytes 0-255), 3 dimensions"),
    (4, 7, BLUE, "size 1: 0x0000ea60\n= 60000 images"),
    (8, 11, BLUE, "size 2: 0x1c\n= 28 rows"),
    (12, 15, BLUE, "size 3: 0x1c\n= 28 columns"),
]
BYTE_WIDTH, BYTES_LEFT, BYTES_Y = 0.47, 0.55, 2.3


def draw_idx_header(path):
    figure, axes = canvas(3.9)
    label(axes, 0.1, 3.55, "train-images-idx3-ubyte, unzipped: a 16-byte header, then the pixels",
          size=13, ha="left", fontweight="bold")
    label(axes, 0.1, 3.2, "Sizes are 4 bytes, big-endian: the most significant byte first.", size=11,
          colour=GREY, ha="left")
    for index, byte in enumerate(IDX_BYTES):
        left = BYTES_LEFT + index * BYTE_WIDTH
        colour = next(field[2] for field in IDX_FIELDS if field[0] <= index <= field[1])
        axes.add_patch(Rectangle((left, BYTES_Y), BYTE_WIDTH, 0.5, linewidth=1.5, edgecolor=colour,
                                 facecolor=BLUE_TINT if colour == BLUE else "white"))
        label(axes, left + BYTE_WIDTH / 2, BYTES_Y + 0.25, byte, size=13, family="monospace")
        label(axes, left + BYTE_WIDTH / 2, BYTES_Y + 0.68, str(index), size=9, colour=GREY)
    label(axes, BYTES_LEFT - 0.08, BYTES_Y + 0.68, "byte", size=9, colour=GREY, ha="right")
    for first, last, colour, meaning in IDX_FIELDS:
        left, right = BYTES_LEFT + first * BYTE_WIDTH + 0.04, BYTES_LEFT + (last + 1) * BYTE_WIDTH - 0.04
        axes.plot([left, left, right, right], [BYTES_Y - 0.1, BYTES_Y - 0.2, BYTES_Y - 0.2, BYTES_Y - 0.1],
                  color=colour, linewidth=2)
        label(axes, (left + right) / 2, BYTES_Y - 0.72, meaning, size=10.5, colour=colour)
    pixels_left, pixels_right = BYTES_LEFT + 16 * BYTE_WIDTH + 0.15, WIDTH - 0.1
    axes.add_patch(Rectangle((pixels_left, BYTES_Y), pixels_right - pixels_left, 0.5, linewidth=1.5,
                             edgecolor=GREEN, facecolor="white", linestyle="--"))
    label(axes, (pixels_left + pixels_right) / 2, BYTES_Y + 0.25, "pixels ...", size=12, colour=GREEN)
    label(axes, (pixels_left + pixels_right) / 2, BYTES_Y - 0.72, "from byte 16:\n784 bytes an image,\n"
          "row by row", size=10.5, colour=GREEN)
    label(axes, 0.1, 0.35, "The label file has one dimension: 00 00 08 01, one size (60000), and its "
          "labels start at byte 8.", size=11, colour=GREY, ha="left")
    save(figure, path)


# ---- Pictures of notebooks 05-08. They are not files in notebooks/figures/: each is embedded in its notebook
# as a markdown cell attachment, so a notebook copied alone still shows it (embed_attachments below). ----

def box(axes, centre, size, words, colour=BLUE, fill=BLUE_TINT, text_size=12):
    rounded_box(axes, centre, size, colour, fill)
    label(axes, *centre, words, size=text_size)


LOOP_BOXES = [  # (centre, words) of the training loop's four stages, clockwise from the top left
    ((1.9, 3.9), "next mini-batch\n" + r"$\mathbf{X}$ (B, 784), $y$ (B,)"),
    ((5.0, 3.9), "forward\nlogits (B, 10), loss $L$"),
    ((8.1, 3.9), "backward\n" + r"$\mathrm{d}\mathbf{W}_k$, $\mathrm{d}\mathbf{b}_k$ for every layer $k$"),
    ((5.0, 1.75), "step (sgd_step)\n" + r"$\theta \leftarrow \theta - \eta_t\,\mathrm{d}\theta$"
     + ",  then $t \\leftarrow t + 1$"),
]


def draw_training_loop(path):
    """05: the loop over batches inside the loop over epochs, with what each stage hands to the next."""
    figure, axes = canvas(5.6)
    label(axes, 0.1, 5.3, "One epoch: shuffle the N training examples, then repeat for each of the "
          "ceil(N / B) mini-batches:", size=12, ha="left", fontweight="bold")
    for centre, words in LOOP_BOXES:
        box(axes, centre, (2.7, 1.0), words, GREEN if "step" in words else BLUE,
            "#D9F0E9" if "step" in words else BLUE_TINT)
    arrow(axes, (3.3, 3.9), (3.6, 3.9), BLUE)
    arrow(axes, (6.4, 3.9), (6.7, 3.9), BLUE)
    arrow(axes, (8.1, 3.35), (6.4, 1.95), VERMILLION)  # the gradients go to the step
    label(axes, 8.0, 2.45, "gradients", size=11, colour=VERMILLION)
    arrow(axes, (3.6, 1.95), (1.9, 3.35), GREEN)  # the changed weights meet the next batch
    label(axes, 1.85, 2.45, "new weights,\nnext batch", size=11, colour=GREEN)
    label(axes, 5.0, 2.95, "(the loss itself is only recorded,\nin the epoch's mean)", size=10, colour=GREY)
    label(axes, 0.1, 0.55, "After the last batch: the epoch's mean training loss, the validation loss and "
          "accuracy; then the next epoch.\nThe step counter t runs from 1 to T = epochs x ceil(N / B) "
          "across all epochs, and the schedule gives $\\eta_t$.", size=11, colour=GREY, ha="left")
    save(figure, path)


def valley_contours(axes, centre, width, height):
    """Three nested ellipses: the contour lines of a long, narrow valley whose floor runs left to right."""
    for scale in (1.0, 0.66, 0.33):
        axes.add_patch(Ellipse(centre, width * scale, height * scale, fill=False, edgecolor=LIGHT_GREY,
                               linewidth=1.2))


def draw_momentum_step(path):
    """06: one momentum step as the sum of the plain step and the previous velocity's share."""
    figure, axes = canvas(5.4)
    valley_contours(axes, (5.4, 2.6), 9.0, 3.8)
    before, now = (1.0, 3.6), (3.0, 2.4)  # theta_{t-2} and theta_{t-1}: the previous step went down-right
    plain = (now[0] + 0.55, now[1] + 1.1)  # -lr g_t points mostly across the valley: up, a little right
    carried = (now[0] + 0.9 * (now[0] - before[0]), now[1] + 0.9 * (now[1] - before[1]))
    both = (carried[0] + plain[0] - now[0], carried[1] + plain[1] - now[1])
    arrow(axes, before, now, GREY, linestyle=":")
    label(axes, 0.9, 2.55, "previous step\n" + r"$-\eta\,\mathbf{v}_{t-1}$", size=11, colour=GREY, ha="left")
    arrow(axes, now, plain, VERMILLION)
    label(axes, plain[0] - 0.1, plain[1] + 0.25, r"plain step $-\eta\,\mathbf{g}_t$", size=12,
          colour=VERMILLION)
    arrow(axes, now, carried, BLUE, linestyle="--")
    label(axes, carried[0] + 0.1, carried[1] - 0.3, r"carried on: $-\eta\beta\,\mathbf{v}_{t-1}$", size=12,
          colour=BLUE, ha="left")
    arrow(axes, now, both, GREEN, width=3)
    arrow(axes, carried, both, VERMILLION, width=1, linestyle=":")
    label(axes, both[0] + 0.15, both[1], r"momentum step $-\eta\,\mathbf{v}_t$", size=12, colour=GREEN,
          ha="left")
    for point, name in [(before, r"$\theta_{t-2}$"), (now, r"$\theta_{t-1}$")]:
        axes.plot(*point, "o", color=INK, markersize=5)
        label(axes, point[0] - 0.1, point[1] - 0.25, name, size=12, ha="right")
    label(axes, 0.1, 5.1, "A narrow valley, minimum at the centre. The gradient points mostly across it; "
          "the velocity remembers the way along it.", size=11, colour=GREY, ha="left")
    label(axes, 0.1, 0.35, r"$\mathbf{v}_t = \beta\,\mathbf{v}_{t-1} + \mathbf{g}_t$. Across the valley the "
          r"signs of $\mathbf{g}$ alternate and cancel in $\mathbf{v}$;" + "\nalong it they agree and add up, "
          r"to at most $1/(1-\beta)$ times a plain step.", size=11, colour=GREY, ha="left")
    save(figure, path)


def digit_panel(axes, left, size, paper, ink, glyph_xy, glyph_size, title, frame=None):
    """A square picture of a '3' at glyph_xy (inches), in the given paper and ink colours."""
    axes.add_patch(Rectangle((left, 1.0), size, size, facecolor=paper, edgecolor=GREY, linewidth=1))
    label(axes, *glyph_xy, "3", size=glyph_size, colour=ink, fontweight="bold", family="DejaVu Sans")
    if frame is not None:  # the 20 x 20 box inside the 28 x 28 canvas
        axes.add_patch(Rectangle(frame[0], frame[1], frame[1], fill=False, edgecolor=ORANGE,
                                 linewidth=1.5, linestyle="--"))
    label(axes, left + size / 2, 0.55, title, size=11)


def draw_photo_to_input(path):
    """07: prepare_digit's four steps on a sketch of a photographed 3."""
    figure, axes = canvas(4.0)
    label(axes, 0.1, 3.7, "prepare_digit: a picture of a digit becomes an input like MNIST's, in four steps",
          size=12, ha="left", fontweight="bold")
    digit_panel(axes, 0.2, 1.9, "#F4F1EA", INK, (0.85, 1.75), 54, "your PNG: dark ink\non light paper")
    digit_panel(axes, 2.6, 1.9, "black", "white", (3.25, 1.75), 54, "1. to_ink: grey,\nlight on dark")
    digit_panel(axes, 5.0, 1.9, "black", "white", (5.95, 1.95), 100, "2. crop to the ink,\n"
                "3. fit it in 20 x 20")
    digit_panel(axes, 7.4, 1.9, "black", "white", (8.35, 1.95), 72, "4. centre_by_mass:\n"
                "centre at (14, 14) of 28 x 28", frame=((7.4 + 0.27, 1.27), 1.36))
    axes.plot(8.35, 1.95, "+", color=VERMILLION, markersize=16, markeredgewidth=2.5, zorder=5)
    for left in (2.15, 4.55, 6.95):
        arrow(axes, (left, 1.95), (left + 0.4, 1.95), ORANGE, width=2.5)
    save(figure, path)


def draw_dropout(path):
    """08: one training step of dropout: crossed-out units give nothing forward and get no gradient back."""
    figure, axes = canvas(4.8)
    columns = [(1.2, 5), (3.6, 4), (6.0, 4), (8.4, 3)]  # (x, units) of the input, two hidden layers, output
    dropped = {(0, 1), (0, 4), (1, 2), (2, 0), (2, 3)}  # (layer, unit): this step's zeros of the masks
    heights = [[3.5 - 0.65 * k - 0.325 * (5 - units) for k in range(units)] for _, units in columns]
    for layer in range(3):
        (x_from, _), (x_to, _) = columns[layer], columns[layer + 1]
        for i, y_from in enumerate(heights[layer]):
            for y_to in heights[layer + 1]:
                kept = (layer, i) not in dropped
                axes.plot([x_from, x_to], [y_from, y_to], color=BLUE if kept else LIGHT_GREY,
                          linewidth=1.0 if kept else 0.6, linestyle="-" if kept else ":", zorder=1)
    for layer, ((x, _), ys) in enumerate(zip(columns, heights)):
        for i, y in enumerate(ys):
            gone = (layer, i) in dropped
            axes.add_patch(Circle((x, y), 0.18, facecolor=LIGHT_GREY if gone else "white",
                                  edgecolor=GREY if gone else (GREEN if layer == 3 else BLUE), linewidth=2,
                                  zorder=3))
            if gone:
                label(axes, x, y, "x", size=13, colour=VERMILLION, zorder=4, fontweight="bold")
    for x, words in [(1.2, "inputs\nrate $r_\\mathrm{in}$"), (3.6, "hidden 1\nrate $r_\\mathrm{hid}$"),
                     (6.0, "hidden 2\nrate $r_\\mathrm{hid}$"), (8.4, "outputs\nnever dropped")]:
        label(axes, x, 4.3, words, size=11, colour=GREY)
    label(axes, 0.1, 0.35, "At each training step the masks $\\mathbf{M}_k$ drop each input of layer $k$ with "
          "probability $r$ (grey, x) and multiply the kept ones by $1/(1-r)$.\nA dropped unit sends nothing "
          "forward and gets no gradient back. Evaluation uses every unit, with no mask.", size=11,
          colour=GREY, ha="left")
    save(figure, path)


def pixel_grid(axes, left, bottom, cells, side, highlight=()):
    for row in range(cells):
        for column in range(cells):
            shaded = (row, column) in highlight
            axes.add_patch(Rectangle((left + column * side, bottom + (cells - 1 - row) * side), side, side,
                                     facecolor=ORANGE if shaded else "white", alpha=0.5 if shaded else 1,
                                     edgecolor=LIGHT_GREY, linewidth=1))


def draw_inverse_map(path):
    """08: an output pixel u reads the original at R^-1 (u - c - d) + c, between four pixels."""
    figure, axes = canvas(4.6)
    side, cells = 0.5, 6
    pixel_grid(axes, 0.6, 0.9, cells, side, highlight={(2, 1), (2, 2), (3, 1), (3, 2)})
    pixel_grid(axes, 6.4, 0.9, cells, side, highlight={(3, 3)})
    label(axes, 2.1, 4.25, "the original image $x$", size=12)
    label(axes, 7.9, 4.25, "the moved image $x'$", size=12)
    source, target = (0.6 + 1.8 * side, 0.9 + 3.3 * side), (6.4 + 3.5 * side, 0.9 + 2.5 * side)
    axes.plot(*source, "o", color=VERMILLION, markersize=7, zorder=5)
    axes.plot(*target, "o", color=BLUE, markersize=7, zorder=5)
    arrow(axes, (target[0] - 0.3, target[1] + 0.05), (source[0] + 0.35, source[1] + 0.05), VERMILLION,
          connectionstyle="arc3,rad=0.25")
    label(axes, 5.0, 2.35, "each output pixel $\\mathbf{u}$\nreads the original at\n"
          r"$\mathbf{q} = \mathbf{R}^{-1}(\mathbf{u} - \mathbf{c} - \mathbf{d}) + \mathbf{c}$", size=12,
          colour=VERMILLION)
    label(axes, target[0] + 0.3, target[1] - 0.35, r"$\mathbf{u}$", size=13, colour=BLUE)
    label(axes, source[0] + 0.05, source[1] - 0.3, r"$\mathbf{q}$", size=13, colour=VERMILLION)
    label(axes, 0.1, 0.4, "q falls between pixels: bilinear interpolation blends the four around it (orange). "
          "Reading backwards fills\nevery output pixel once, where pushing pixels forward would miss some. "
          "Outside lies blank paper, 0.", size=11, colour=GREY, ha="left")
    save(figure, path)


# ---- Which notebook shows which picture: {notebook: {attachment name: drawing function}} ----

def pictures_01_04():
    return {
        "01_data.ipynb": {"idx_header.png": draw_idx_header},
        "02_forward.ipynb": {"network.png": draw_network},
        "03_softmax_cross_entropy.ipynb": {"softmax_cross_entropy_graph.png": draw_softmax_cross_entropy_graph},
        "04_backprop.ipynb": {"layer_forward_backward.png": draw_layer_forward_backward},
    }


def pictures_05_08():
    return {
        "05_minibatch_sgd.ipynb": {"training_loop.png": draw_training_loop},
        "06_optimizers.ipynb": {"momentum_step.png": draw_momentum_step},
        "07_what_it_learned.ipynb": {"photo_to_input.png": draw_photo_to_input},
        "08_generalisation.ipynb": {"dropout.png": draw_dropout, "inverse_map.png": draw_inverse_map},
    }


def pictures():
    """Every notebook's pictures; each part of the walkthrough adds its own function above."""
    return {**pictures_01_04(), **pictures_05_08()}


def draw_all(folder):
    """Draw every picture into folder; returns {notebook: [paths of its pictures]}."""
    folder.mkdir(parents=True, exist_ok=True)
    drawn = {}
    for notebook, figures in pictures().items():
        for name, draw in figures.items():
            draw(folder / name)
            drawn.setdefault(notebook, []).append(folder / name)
    return drawn


def embed(notebook, paths):
    """Put each picture into the attachments of the markdown cell that shows it as attachment:name."""
    path = NOTEBOOKS / notebook
    content = json.loads(path.read_text())
    for picture in paths:
        cells = [cell for cell in content["cells"] if cell["cell_type"] == "markdown"
                 and f"(attachment:{picture.name})" in "".join(cell["source"])]
        if not cells:
            raise SystemExit(f"{notebook} has no markdown cell showing attachment:{picture.name}")
        for cell in cells:
            data = base64.b64encode(picture.read_bytes()).decode("ascii")
            cell.setdefault("attachments", {})[picture.name] = {"image/png": data}
    path.write_text(json.dumps(content, indent=1, ensure_ascii=False) + "\n")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv:
        draw_all(Path(argv[0]))
        return
    with tempfile.TemporaryDirectory() as folder:
        for notebook, paths in draw_all(Path(folder)).items():
            embed(notebook, paths)


if __name__ == "__main__":
    main()
