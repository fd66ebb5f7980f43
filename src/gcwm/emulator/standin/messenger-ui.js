/*
 * gcwm emulator: a stand-in of Messenger's UI bundle. Not Genesys's code. It makes the connections
 * Messenger makes, so a Content-Security-Policy that forbids them really breaks it: it fetches the
 * deployment's config.json from the origin it was loaded from (connect-src), then opens a WebSocket
 * to the config's messagingEndpoint + /v1?deploymentId=... (connect-src, ws:/wss:). It shows a
 * launcher, #gcwm-messenger-standin, whose data-state is "loading", then "connected" once the socket
 * is open and its hello has arrived, "blocked" when the fetch or the socket fails (a CSP violation,
 * an unreachable host), or "failed" when config.json answers an error. data-reason says why.
 * Once connected it looks as the channel will to visitors, as far as config.json says: the
 * launcher in messenger.styles.primaryColor with the MessengerLauncherButtonText label of the
 * default language (customI18nLabels), and a click opens a panel headed by MessengerHomeHeaderTitle
 * and MessengerHomeHeaderSubTitle. Where the channel sets none, the stand-in's own words are used.
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
  var texts = {
    loading: "Connecting\u2026",
    connected: "Chat with us",
    blocked: "Messenger blocked",
    failed: "Messenger unavailable"
  };
  var colours = { loading: "#6b7280", connected: "#1f7a3f", blocked: "#b42318", failed: "#b42318" };
  var panel = null;
  var header = { title: "Hello", subtitle: "How can we help?" };

  // customI18nLabels: [{language, localizedLabels: [{key, value}]}]; the default language's, else none.
  function labelsOf(config) {
    var found = {};
    var sets = (config && config.customI18nLabels) || [];
    var language = String((config && config.defaultLanguage) || "").toLowerCase();
    for (var i = 0; i < sets.length; i += 1) {
      if (String(sets[i].language || "").toLowerCase() !== language) {
        continue;
      }
      var pairs = sets[i].localizedLabels || [];
      for (var j = 0; j < pairs.length; j += 1) {
        if (pairs[j].key && typeof pairs[j].value === "string") {
          found[pairs[j].key] = pairs[j].value;
        }
      }
    }
    return found;
  }

  function readableOn(colour) {
    var rgb = [1, 3, 5].map(function (at) {
      var c = parseInt(colour.substr(at, 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    var luminance = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
    return luminance > 0.179 ? "#111111" : "#ffffff";
  }

  // The channel's look: its primary colour (a #rrggbb only) and its launcher and home screen labels.
  function dress(config) {
    var styles = (config && config.messenger && config.messenger.styles) || {};
    var colour = String(styles.primaryColor || "");
    if (/^#[0-9a-fA-F]{6}$/.test(colour)) {
      colours.connected = colour;
      launcher.setAttribute("data-primary-color", colour.toLowerCase());
    }
    var labels = labelsOf(config);
    if (labels.MessengerLauncherButtonText) {
      texts.connected = labels.MessengerLauncherButtonText;
    }
    header.title = labels.MessengerHomeHeaderTitle || header.title;
    header.subtitle = labels.MessengerHomeHeaderSubTitle || header.subtitle;
  }

  function toggle() {
    if (launcher.getAttribute("data-state") !== "connected") {
      return;
    }
    if (panel) {
      panel.hidden = !panel.hidden;
      return;
    }
    panel = document.createElement("div");
    panel.id = "gcwm-messenger-standin-panel";
    panel.style.position = "fixed";
    panel.style.right = "24px";
    panel.style.bottom = "84px";
    panel.style.width = "300px";
    panel.style.background = "#ffffff";
    panel.style.borderRadius = "12px";
    panel.style.boxShadow = "0 4px 16px rgba(0, 0, 0, 0.25)";
    panel.style.fontFamily = "sans-serif";
    panel.style.overflow = "hidden";
    var head = document.createElement("div");
    head.style.background = colours.connected;
    head.style.color = readableOn(colours.connected);
    head.style.padding = "16px 20px";
    var title = document.createElement("div");
    title.id = "gcwm-messenger-standin-title";
    title.style.fontSize = "20px";
    title.style.fontWeight = "bold";
    title.textContent = header.title;
    var subtitle = document.createElement("div");
    subtitle.id = "gcwm-messenger-standin-subtitle";
    subtitle.style.marginTop = "4px";
    subtitle.textContent = header.subtitle;
    head.appendChild(title);
    head.appendChild(subtitle);
    var body = document.createElement("div");
    body.style.padding = "16px 20px";
    body.style.color = "#4b5563";
    body.style.fontSize = "14px";
    body.textContent = "gcwm's stand-in of Messenger: connected to the emulated org.";
    panel.appendChild(head);
    panel.appendChild(body);
    document.body.appendChild(panel);
  }

  function show(state, reason) {
    launcher.setAttribute("data-state", state);
    launcher.setAttribute("data-reason", reason || "");
    launcher.textContent = texts[state];
    launcher.title = reason || texts[state];
    launcher.style.background = colours[state];
    launcher.style.color = readableOn(colours[state]);
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
    launcher.style.cursor = "pointer";
    launcher.addEventListener("click", toggle);
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
    dress(config);
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
