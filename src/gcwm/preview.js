/*
 * gcwm preview: the page's own script, served from its own origin with the response's nonce, so a
 * policy that lets the page run anything (a nonce, 'self') lets it run. What it does:
 * - says that it runs (#page-script), and how the list of violations stays current:
 *   polling GET /csp-reports (what the browser reported to the preview server) when the policy lets
 *   the page connect to its own origin (the server says so in data-poll), else listing this page's
 *   securitypolicyviolation events (enforced ones: the Report-Only copy repeats each);
 * - says whether Messenger's launcher (#gcwm-messenger-standin) appeared, and in which state.
 * No eval, no inline handlers, no styles; text goes in through textContent.
 */
(function () {
  "use strict";
  var note = document.getElementById("page-script");
  var list = document.getElementById("csp-violations");
  var none = document.getElementById("csp-violations-none");
  var messenger = document.getElementById("messenger-state");
  var polling = note.getAttribute("data-poll") === "true";
  var started = Date.now();

  function item(directive, blocked, source, via, count) {
    var li = document.createElement("li");
    li.setAttribute("data-directive", directive);
    li.setAttribute("data-blocked-uri", blocked);
    li.setAttribute("data-via", via);
    li.setAttribute("data-count", String(count));
    li.textContent = directive + " blocked " + (blocked || "(unknown)") + (source ? " at " + source : "");
    var small = document.createElement("small");
    small.textContent = " (" + (via || "this page") + ", " + count + (count === 1 ? " time)" : " times)");
    li.appendChild(small);
    return li;
  }

  function shown(count) {
    list.setAttribute("data-count", String(count));
    none.hidden = count > 0;
  }

  function say(state, text) {
    note.setAttribute("data-state", state);
    note.textContent = text;
  }

  function listEvents() {
    while (list.firstChild) {
      list.removeChild(list.firstChild);
    }
    shown(0);
    var seen = {};
    document.addEventListener("securitypolicyviolation", function (event) {
      if (event.disposition === "report") {
        return; // the Report-Only copy of the same policy: already listed as enforced
      }
      var where = event.sourceFile ? event.sourceFile + ":" + event.lineNumber + ":" + event.columnNumber : "";
      var key = event.effectiveDirective + " " + event.blockedURI + " " + where;
      if (seen[key]) {
        seen[key].count += 1;
        seen[key].li.setAttribute("data-count", String(seen[key].count));
        return;
      }
      seen[key] = { count: 1, li: item(event.effectiveDirective, event.blockedURI, where, "", 1) };
      list.appendChild(seen[key].li);
      shown(list.children.length);
    });
  }

  function poll() {
    fetch("/csp-reports", { credentials: "omit", cache: "no-store" })
      .then(function (response) {
        return response.json();
      })
      .then(
        function (answer) {
          while (list.firstChild) {
            list.removeChild(list.firstChild);
          }
          answer.violations.forEach(function (v) {
            list.appendChild(item(v.directive, v.blocked, v.source, v.via.join(", "), v.count));
          });
          shown(answer.violations.length);
          window.setTimeout(poll, 1000);
        },
        function () {
          say("events", "This page could not ask the preview server for its reports, so the list now " +
            "shows the violations this page sees; the terminal shows the browser's reports.");
          listEvents();
        }
      );
  }

  function watchMessenger() {
    var launcher = document.getElementById("gcwm-messenger-standin");
    if (launcher) {
      var state = launcher.getAttribute("data-state") || "";
      var reason = launcher.getAttribute("data-reason") || "";
      messenger.setAttribute("data-state", state);
      messenger.textContent = "Messenger: " + state + (reason ? " (" + reason + ")" : "") + ".";
    } else if (Date.now() - started > 5000) {
      messenger.setAttribute("data-state", "absent");
      messenger.textContent = "Messenger: its launcher has not appeared; its script did not run " +
        "(see the violations below).";
    }
    window.setTimeout(watchMessenger, 500);
  }

  if (polling) {
    say("polling", "Live: the list shows what the browser has reported to the preview server since it " +
      "started, updated every second.");
    poll();
  } else {
    say("events", "This policy does not let the page fetch from its own server (connect-src), so the list " +
      "shows the violations this page sees; the browser's reports go to the terminal.");
    listEvents();
  }
  watchMessenger();
})();
