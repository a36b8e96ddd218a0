// botserver chat widget: a chat bubble for any site.
//
//   <script src="https://HOST/widget.js" data-bot="survey" async></script>
//
// Optional: data-title (the panel's header), data-name (the user's display
// name), data-group (a group id to join, "~..."). The bubble opens a panel
// that frames HOST's chat page (/chat/BOT?embed=1): the same protocol and
// identity rules as the page (the user's token stays in HOST's storage),
// and the page's styles and scripts stay apart from the site's. The bot's
// allowed origins (bots[].web.allowed_origins) decide which sites may frame
// it. window.botserver.emit(name, payload) sends an event to the bot (the
// chat is loaded, hidden, if the panel was never opened); the bot's events
// arrive as "botserver:event" events on window. window.botserver.open(),
// .close() and .toggle() drive the panel.
(() => {
  "use strict";
  const script = document.currentScript ||
    Array.from(document.querySelectorAll("script[src*='widget.js'][data-bot]")).pop();
  if (!script || window.botserver) return; // one widget per page
  const bot = script.dataset.bot || "";
  if (!/^[a-z0-9][a-z0-9_-]{0,62}$/.test(bot)) {
    console.error("botserver widget: data-bot must name a bot (got " + JSON.stringify(bot) + ")");
    return;
  }
  const server = new URL(script.src, location.href).origin;
  const label = script.dataset.title || "Chat";
  const openKey = "botserver-widget-open:" + server + "/" + bot;

  function chatURL() {
    const q = new URLSearchParams({ embed: "1", origin: location.origin });
    if (script.dataset.group) q.set("g", script.dataset.group);
    if (script.dataset.name) q.set("name", script.dataset.name);
    if (script.dataset.title) q.set("title", script.dataset.title);
    return server + "/chat/" + encodeURIComponent(bot) + "?" + q.toString();
  }

  // --- the bubble and the panel, in a shadow root (the site's CSS stays out) --
  const host = document.createElement("div");
  host.id = "botserver-widget";
  const root = host.attachShadow({ mode: "open" });
  root.innerHTML = `<style>
    :host { all: initial; }
    .launcher {
      position: fixed; right: 20px; bottom: 20px; z-index: 2147483646; width: 58px; height: 58px;
      display: grid; place-items: center; border: 0; border-radius: 50%; cursor: pointer;
      background: #2563eb; color: #fff; box-shadow: 0 8px 24px rgba(37,99,235,.35), 0 2px 6px rgba(0,0,0,.15);
      transition: transform .15s ease;
    }
    .launcher:hover { transform: scale(1.05); }
    .launcher:focus-visible { outline: 3px solid #93c5fd; outline-offset: 3px; }
    .launcher svg { width: 28px; height: 28px; fill: currentColor; }
    .launcher .close-icon, .launcher[aria-expanded="true"] .chat-icon { display: none; }
    .launcher[aria-expanded="true"] .close-icon { display: block; }
    .badge {
      position: absolute; top: 2px; right: 2px; width: 14px; height: 14px; border-radius: 50%;
      background: #ef4444; border: 2px solid #fff;
    }
    .panel {
      position: fixed; right: 20px; bottom: 92px; z-index: 2147483647;
      width: 380px; height: min(640px, calc(100vh - 120px)); max-height: calc(100dvh - 120px);
      border-radius: 16px; overflow: hidden; background: #fff;
      box-shadow: 0 18px 50px rgba(0,0,0,.22), 0 2px 8px rgba(0,0,0,.12);
    }
    .panel.hidden { visibility: hidden; pointer-events: none; width: 0; height: 0; box-shadow: none; }
    iframe { display: block; width: 100%; height: 100%; border: 0; }
    @media (max-width: 520px) {
      .panel { right: 0; bottom: 0; width: 100vw; height: 100vh; height: 100dvh; max-height: none; border-radius: 0; }
      .launcher[aria-expanded="true"] { display: none; }
    }
    @media (prefers-color-scheme: dark) { .panel { background: #1a1d21; } }
  </style>
  <div class="panel hidden" part="panel"></div>
  <button class="launcher" type="button" part="launcher" aria-expanded="false">
    <svg class="chat-icon" viewBox="0 0 24 24" aria-hidden="true"><path d="M12 3C6.5 3 2 6.9 2 11.7c0 2.5 1.2 4.8 3.2 6.4-.1 1.3-.6 2.6-1.6 3.6 2 0 3.9-.7 5.3-1.9 1 .3 2 .4 3.1.4 5.5 0 10-3.9 10-8.6S17.5 3 12 3z"/></svg>
    <svg class="close-icon" viewBox="0 0 24 24" aria-hidden="true"><path d="M6.4 5 5 6.4 10.6 12 5 17.6 6.4 19l5.6-5.6 5.6 5.6 1.4-1.4-5.6-5.6L19 6.4 17.6 5 12 10.6z"/></svg>
    <span class="badge" hidden></span>
  </button>`;
  const panel = root.querySelector(".panel");
  const launcher = root.querySelector(".launcher");
  const badge = root.querySelector(".badge");
  launcher.setAttribute("aria-label", "Open " + label);

  let frame = null, ready = false, isOpen = false;
  const queue = []; // emits waiting for the chat page

  function ensureFrame() {
    if (frame) return frame;
    frame = document.createElement("iframe");
    frame.title = label;
    frame.src = chatURL();
    frame.allow = "clipboard-write";
    panel.appendChild(frame);
    return frame;
  }

  function remember(open) {
    try { sessionStorage.setItem(openKey, open ? "1" : "0"); } catch (e) { /* storage unavailable */ }
  }

  function open() {
    ensureFrame();
    isOpen = true;
    panel.classList.remove("hidden");
    launcher.setAttribute("aria-expanded", "true");
    launcher.setAttribute("aria-label", "Close " + label);
    badge.hidden = true;
    remember(true);
  }

  function close() {
    isOpen = false;
    panel.classList.add("hidden");
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-label", "Open " + label);
    remember(false);
    launcher.focus();
  }

  function post(msg) {
    if (frame && frame.contentWindow) frame.contentWindow.postMessage(msg, server);
  }

  function emit(name, payload) {
    if (typeof name !== "string" || !name) throw new TypeError("botserver.emit: the event needs a name");
    const msg = { botserver: "emit", name, payload: payload === undefined ? undefined : JSON.parse(JSON.stringify(payload)) };
    ensureFrame();
    if (ready) post(msg);
    else queue.push(msg);
  }

  window.addEventListener("message", (ev) => {
    if (ev.origin !== server || !frame || ev.source !== frame.contentWindow) return;
    const m = ev.data || {};
    switch (m.botserver) {
      case "ready":
        ready = true;
        while (queue.length) post(queue.shift());
        break;
      case "message":
        if (!isOpen) badge.hidden = false;
        break;
      case "event":
        window.dispatchEvent(new CustomEvent("botserver:event", { detail: { name: m.name, payload: m.payload, history: !!m.history } }));
        break;
      case "close":
        close();
        break;
    }
  });

  launcher.addEventListener("click", () => (isOpen ? close() : open()));
  window.botserver = Object.freeze({ emit, open, close, toggle: () => (isOpen ? close() : open()) });

  function mount() {
    document.body.appendChild(host);
    let wasOpen = false;
    try { wasOpen = sessionStorage.getItem(openKey) === "1"; } catch (e) { /* storage unavailable */ }
    if (wasOpen) open(); // a reload keeps the panel open
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
