// Modules the pages import that are not files in web/: the hub serves them (web/serve-web.ts).

/** uPlot's ES module from node_modules/uplot, served at /vendor/uplot/. */
declare module '/vendor/uplot/uPlot.esm.js' {
  import uPlot from 'uplot';
  export default uPlot;
}
