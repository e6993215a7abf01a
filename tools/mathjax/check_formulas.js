// Typeset formulas with MathJax 3, the engine JupyterLab uses, and report every error.
//
// Reads JSON on stdin: [{"tex": "x^2", "display": false}, ...]
// Writes JSON on stdout: one entry per formula, in order: null when it typesets, else MathJax's message.
// Used by tests/test_mathjax.py; install its one dependency first with `npm ci --prefix tools/mathjax`.

const { mathjax } = require('mathjax-full/js/mathjax.js');
const { TeX } = require('mathjax-full/js/input/tex.js');
const { CHTML } = require('mathjax-full/js/output/chtml.js');
const { liteAdaptor } = require('mathjax-full/js/adaptors/liteAdaptor.js');
const { RegisterHTMLHandler } = require('mathjax-full/js/handlers/html.js');
const { AllPackages } = require('mathjax-full/js/input/tex/AllPackages.js');

// JupyterLab loads every package (AllPackages). Two of them hide errors from us: 'noerrors' draws a
// broken formula as its source on a yellow box, and 'noundefined' draws an unknown macro's name in red.
// A reader still sees both as broken, so we leave them out and let each surface as an error.
const ERROR_HIDING_PACKAGES = ['noerrors', 'noundefined'];

function makeDocument() {
  RegisterHTMLHandler(liteAdaptor());
  const tex = new TeX({
    packages: AllPackages.filter((name) => !ERROR_HIDING_PACKAGES.includes(name)),
    processEscapes: true,
    processEnvironments: true,
    // By default MathJax turns a TeX error into an <merror> node; throwing lets us report it.
    formatError: (jax, error) => { throw error; },
  });
  return mathjax.document('', { InputJax: tex, OutputJax: new CHTML() });
}

function errorOf(document, formula) {
  try {
    document.convert(formula.tex, { display: formula.display });
    return null;
  } catch (error) {
    return error.message || String(error);
  }
}

function readStdin() {
  return require('fs').readFileSync(0, 'utf8');
}

function main() {
  const formulas = JSON.parse(readStdin());
  const document = makeDocument();
  const errors = formulas.map((formula) => errorOf(document, formula));
  process.stdout.write(JSON.stringify(errors) + '\n');
}

main();
