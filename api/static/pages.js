// Progressive enhancement only: the pages work without JavaScript.
// Changing a filter submits the search form at once.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.querySelector("form[data-autosubmit]");
  if (!form) {
    return;
  }
  form.querySelectorAll(".facet input, .facet select").forEach(function (field) {
    field.addEventListener("change", function () {
      if (form.requestSubmit) {
        form.requestSubmit();
      } else {
        form.submit();
      }
    });
  });
});
