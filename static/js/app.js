// Small progressive enhancements; every page works without this file.
document.addEventListener("change", function (event) {
  var target = event.target;
  if (target.matches && target.matches("select[data-autosubmit]") && target.form) {
    target.form.requestSubmit();
  }
});

// htmx swaps nothing when a request fails, so without this a failed click would look like
// nothing happened. Say what went wrong in the page's alert box (text only, never markup).
var REQUEST_PROBLEMS = {
  400: "This page was out of date, so nothing was changed. Reload the page and try again.",
  404: "That is no longer available to you (it may have been removed, or your role changed). Reload the page.",
  414: "That was too long for rostersync to read. Shorten what you typed, then try again.",
  429: "Too many attempts in a short time. Wait a minute, then try again.",
  503: "rostersync could not reach a service it needs, so nothing was changed. Try again in a minute."
};

function describeProblem(status) {
  if (REQUEST_PROBLEMS[status]) {
    return REQUEST_PROBLEMS[status];
  }
  if (status >= 500) {
    return "Something went wrong (error " + status + "), so nothing was changed. Try again in a minute.";
  }
  return "rostersync could not do that (error " + status + "), so nothing was changed. Reload the page and try again.";
}

// A field changed since htmx drew it: a tick, a choice or text the person entered there.
function isChangedField(field) {
  if (field.type === "checkbox" || field.type === "radio") {
    return field.checked !== field.defaultChecked;
  }
  if (field.tagName === "SELECT") {
    return Array.from(field.options).some(function (option) {
      return option.selected !== option.defaultSelected;
    });
  }
  return field.value !== field.defaultValue;
}

// A failed search must not leave the previous search's results under the new words, nor take
// away anything the person entered. So it empties only what its target marks as results
// (data-search-results: the target itself, or inside it, as the group picker's list is beside
// its Chosen groups and a table's rows beside its sort fields), and not results holding a
// changed field (a tick whose own request failed or was replaced by this search): better the
// old list than a lost tick.
function clearStaleResults(event) {
  var source = event.detail.elt;
  var target = event.detail.target;
  if (!target || !source || !source.closest || !source.closest("[role=search]")) {
    return;
  }
  var stale = Array.from(target.querySelectorAll("[data-search-results]"));
  if (target.hasAttribute("data-search-results")) {
    stale.push(target);
  }
  stale.forEach(function (results) {
    if (!Array.from(results.querySelectorAll("input, select, textarea")).some(isChangedField)) {
      results.replaceChildren();
    }
  });
}

var problemShownAt = 0;

function showRequestProblem(message) {
  var box = document.getElementById("request-problem");
  if (!box) {
    return;
  }
  box.querySelector("[data-message]").textContent = message;
  box.hidden = false;
  problemShownAt = performance.now();
  box.scrollIntoView({block: "nearest"});
}

// The problem is hidden once a request the person made after it showed has worked: their
// click, tick or typing worked, so the page works again. Requests the page makes by itself do
// not count (the progress and the schools' rows polling with "load delay:1s" or "every 3s", the
// table refreshed on "sync-finished"), nor one the person sent before the problem showed: either
// can succeed a second after the person's own click failed, and would take away why before they
// could read it. Hiding it announces nothing to a screen reader.
function isLaterRequestOfThePerson(event) {
  // htmx keeps the event that set the request off; only the browser's own (isTrusted) come
  // from a click, a key or typing, and polls have none.
  var cause = event.detail.requestConfig && event.detail.requestConfig.triggeringEvent;
  return Boolean(cause && cause.isTrusted && cause.timeStamp > problemShownAt);
}

document.addEventListener("htmx:afterRequest", function (event) {
  var box = document.getElementById("request-problem");
  if (box && event.detail.successful && isLaterRequestOfThePerson(event)) {
    box.hidden = true;
  }
});

document.addEventListener("htmx:responseError", function (event) {
  clearStaleResults(event);
  showRequestProblem(describeProblem(event.detail.xhr.status));
});

document.addEventListener("htmx:sendError", function (event) {
  clearStaleResults(event);
  showRequestProblem("rostersync could not be reached. Check your internet connection, then try again.");
});

// After Sync now (or Apply removals) keyboard focus moves to the progress region, which keeps
// it while the progress inside is swapped; otherwise it would fall back to the top of the page.
document.addEventListener("htmx:afterRequest", function (event) {
  var source = event.detail.elt;
  var selector = source && source.getAttribute && source.getAttribute("data-focus-after");
  var target = selector && document.querySelector(selector);
  if (target && event.detail.successful) {
    target.focus();
  }
});

// Arriving at page#region where the region takes focus (Sync now pressed without JavaScript, or
// from Import settings) puts focus there too, not only the scroll position.
document.addEventListener("DOMContentLoaded", function () {
  var target = location.hash && document.getElementById(location.hash.slice(1));
  if (target && target.hasAttribute("tabindex")) {
    target.focus();
  }
});

// Settings › Schools: the header box ticks (or clears) every row shown. Without JavaScript it
// stays hidden and each school is ticked on its own.
function showSelectAll() {
  document.querySelectorAll("input[data-select-all][hidden]").forEach(function (box) {
    box.hidden = false;
  });
}
document.addEventListener("DOMContentLoaded", showSelectAll);
document.addEventListener("htmx:afterSettle", showSelectAll);
document.addEventListener("change", function (event) {
  var box = event.target;
  if (box.matches && box.matches("input[data-select-all]")) {
    box.closest("table").querySelectorAll("tbody input[type=checkbox][name=school]")
      .forEach(function (row) { row.checked = box.checked; });
  }
});

// A region marked data-keep-focus (the group picker's list, redrawn on each tick) keeps keyboard
// focus on the same box after htmx redraws it, even when the box moved (into Chosen groups).
var focusToKeep = null;
document.addEventListener("htmx:beforeSwap", function (event) {
  var active = document.activeElement;
  var target = event.detail.target;
  focusToKeep = null;
  if (target && target.hasAttribute("data-keep-focus") && active && target.contains(active) &&
      active.name && active.type === "checkbox") {
    focusToKeep = {name: active.name, value: active.value};
  }
});
document.addEventListener("htmx:afterSettle", function (event) {
  if (!focusToKeep || !event.detail.target.hasAttribute("data-keep-focus")) {
    return;
  }
  var box = event.detail.target.querySelector("input[name=\"" + CSS.escape(focusToKeep.name) +
    "\"][value=\"" + CSS.escape(focusToKeep.value) + "\"]");
  focusToKeep = null;
  if (box) {
    box.focus();
  }
});
