/* eels-edge-book: set up the page for embed-amd.js (our code, BSD-3-Clause like the book's).
 *
 * 1. embed-amd.js looks for its fonts (Font Awesome) next to the URL that requirejs gives its
 *    module "@jupyter-widgets/html-manager/dist/libembed-amd", by default
 *    <page folder>/@jupyter-widgets/html-manager/dist/. A requirejs configuration set before
 *    require.js loads (a global `require` object) maps that module to this folder instead.
 *    (__jupyter_widgets_assets_path__ is set too, but the bundle reads it only after its CSS.)
 * 2. The ipywidgets 8 controls typeset their descriptions with the MathJax 2 API
 *    (MathJax.Hub.Queue) whenever window.MathJax exists; the book loads MathJax 3, which has no
 *    Hub, so they would throw. This maps Hub.Queue(["Typeset", Hub, element]) to MathJax 3.
 */
(function () {
  var here = new URL(".", document.currentScript.src).href;  // .../jupyter-widgets/
  window.__jupyter_widgets_assets_path__ = here;
  if (!window.requirejs) {
    window.require = {paths: {"@jupyter-widgets/html-manager/dist": here.replace(/\/$/, "")}};
  }

  function addHub() {
    var mj = window.MathJax;
    if (!mj || mj.Hub) return;
    mj.Hub = {
      Queue: function (job) {
        var m = window.MathJax, element = job && job[2];
        if (!m || !m.typesetPromise || !element) return;
        var ready = (m.startup && m.startup.promise) || Promise.resolve();
        ready.then(function () { return m.typesetPromise([element]); })
             .catch(function (err) { console.warn("MathJax typeset of a widget label failed", err); });
      }
    };
  }
  addHub();
  document.addEventListener("DOMContentLoaded", addHub);
  window.addEventListener("load", addHub, true);
})();
