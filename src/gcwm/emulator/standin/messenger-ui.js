/*
 * gcwm emulator: a stand-in of Messenger's UI bundle. Not Genesys's code. It makes the connections
 * Messenger makes, so a Content-Security-Policy that forbids them really breaks it: it fetches the
 * deployment's config.json from the origin it was loaded from (connect-src), then opens a WebSocket
 * to the config's messagingEndpoint + /v1?deploymentId=... (connect-src, ws:/wss:). It shows a
 * launcher, #gcwm-messenger-standin, whose data-state is "loading", then "connected" once the socket
 * is open and its hello has arrived, "blocked" when the fetch or the socket fails (a CSP violation,
 * an unreachable host), or "failed" when config.json answers an error. data-reason says why.
 * Styles are set through the CSSOM (element.style), which style-src does not govern; no eval, no
 * inline handlers; text goes in through textContent.
 */
(function () {
  "use strict";
  var self = document.currentScript;
  var origin = self && self.src ? new URL(self.src).origin : window.location.origin;
  var name = window._genesysJs || "Genesys";
  var command = window[name];
  var deploymentId = String((command && command.c && command.c.deploymentId) || "");
  var launcher = document.createElement("div");
  var labels = {
    loading: "Connecting\u2026",
    connected: "Chat with us",
    blocked: "Messenger blocked",
    failed: "Messenger unavailable"
  };
  var colours = { loading: "#6b7280", connected: "#1f7a3f", blocked: "#b42318", failed: "#b42318" };

  function show(state, reason) {
    launcher.setAttribute("data-state", state);
    launcher.setAttribute("data-reason", reason || "");
    launcher.textContent = labels[state];
    launcher.title = reason || labels[state];
    launcher.style.background = colours[state];
    if (state === "blocked" || state === "failed") {
      console.warn("gcwm stand-in Messenger: " + state + (reason ? ": " + reason : ""));
    }
  }

  function mount() {
    launcher.id = "gcwm-messenger-standin";
    launcher.setAttribute("role", "button");
    launcher.style.position = "fixed";
    launcher.style.right = "24px";
    launcher.style.bottom = "24px";
    launcher.style.padding = "12px 20px";
    launcher.style.borderRadius = "24px";
    launcher.style.color = "#ffffff";
    launcher.style.fontFamily = "sans-serif";
    launcher.style.fontSize = "16px";
    launcher.style.boxShadow = "0 2px 8px rgba(0, 0, 0, 0.3)";
    show("loading", "");
    document.body.appendChild(launcher);
    start();
  }

  function start() {
    if (!deploymentId) {
      show("failed", "the snippet gave no deploymentId");
      return;
    }
    var url = origin + "/webdeployments/v1/deployments/" + encodeURIComponent(deploymentId) + "/config.json";
    fetch(url, { credentials: "omit" }).then(
      function (response) {
        if (!response.ok) {
          show("failed", "config.json answered " + response.status);
          return null;
        }
        return response.json().then(connect, function (error) {
          show("failed", "config.json is not JSON: " + error);
        });
      },
      function (error) {
        show("blocked", "config.json could not be fetched: " + error);
      }
    );
  }

  function connect(config) {
    var endpoint = config && config.messenger && config.messenger.apps && config.messenger.apps.conversations
      ? config.messenger.apps.conversations.messagingEndpoint
      : "";
    if (!endpoint) {
      show("failed", "config.json has no messagingEndpoint");
      return;
    }
    var socket;
    try {
      socket = new WebSocket(endpoint + "/v1?deploymentId=" + encodeURIComponent(deploymentId));
    } catch (error) {
      show("blocked", "the WebSocket could not be opened: " + error);
      return;
    }
    var greeted = false;
    socket.addEventListener("message", function (event) {
      var message = null;
      try {
        message = JSON.parse(event.data);
      } catch (error) {
        message = null;
      }
      if (!greeted && message && message.type === "hello") {
        greeted = true;
        show("connected", "");
      }
    });
    socket.addEventListener("error", function () {
      if (!greeted) {
        show("blocked", "the WebSocket to " + endpoint + " failed");
      }
    });
    socket.addEventListener("close", function (event) {
      if (!greeted) {
        show("blocked", "the WebSocket to " + endpoint + " closed (" + event.code + ")");
      } else {
        show("failed", "the WebSocket closed (" + event.code + ")");
      }
    });
    window.gcwmMessengerStandIn = window.gcwmMessengerStandIn || {};
    window.gcwmMessengerStandIn.socket = socket;
  }

  if (document.body) {
    mount();
  } else {
    document.addEventListener("DOMContentLoaded", mount);
  }
})();
