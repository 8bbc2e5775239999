// Small progressive enhancements; every page works without this file.
document.addEventListener("change", function (event) {
  var target = event.target;
  if (target.matches && target.matches("select[data-autosubmit]") && target.form) {
    target.form.requestSubmit();
  }
});
