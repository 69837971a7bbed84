/* The /embed-demo page: copy buttons for the embed snippets. */
(function () {
  "use strict";

  function select(node) {
    var range = document.createRange();
    range.selectNodeContents(node);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function copy(button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    var status = button.parentNode.querySelector(".sf-copied");
    if (!source || !status) return;
    var done = function () {
      status.textContent = button.getAttribute("data-copied");
      clearTimeout(button._sfTimer);
      button._sfTimer = setTimeout(function () { status.textContent = ""; }, 4000);
    };
    var failed = function () {
      select(source);
      status.textContent = button.getAttribute("data-failed");
    };
    status.textContent = "";
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(source.textContent).then(done, failed);
    } else {
      failed();
    }
  }

  document.querySelectorAll("button.sf-copy").forEach(function (button) {
    button.addEventListener("click", function () { copy(button); });
  });
})();
