// Small behaviour of the admin UI. No inline scripts anywhere (the CSP forbids them): pages
// mark elements with data-* attributes and this file wires them up.
(function () {
  "use strict";
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var lang = document.documentElement.lang || "zh-CN";
  var dark = document.documentElement.getAttribute("data-theme") === "dark";
  var stillCharts = window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  // htmx requests carry the CSRF token as a header.
  document.addEventListener("htmx:configRequest", function (event) {
    if (csrf) { event.detail.headers["X-CSRF-Token"] = csrf; }
  });

  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }

  function initCharts(root) {
    if (!window.echarts) { return; }
    root.querySelectorAll("[data-chart]").forEach(function (element) {
      var source = document.getElementById(element.getAttribute("data-chart"));
      if (!source || element.getAttribute("data-chart-ready")) { return; }
      var option = JSON.parse(source.textContent);
      var chart = window.echarts.init(element, dark ? "dark" : null,
        { locale: lang.indexOf("zh") === 0 ? "ZH" : "EN", renderer: "canvas" });
      if (dark) { option.backgroundColor = option.backgroundColor || "transparent"; }
      if (stillCharts) { option.animation = false; }  // the user asked for less motion
      chart.setOption(option);
      element.setAttribute("data-chart-ready", "1");
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }

  function initMenu() {
    var toggle = document.querySelector("[data-menu-toggle]");
    var menu = document.getElementById("side-menu");
    if (!toggle || !menu) { return; }
    toggle.addEventListener("click", function () {
      var open = menu.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      if (open) { var first = menu.querySelector("a"); if (first) { first.focus(); } }
    });
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape") { return; }
      if (menu.classList.contains("open")) {
        menu.classList.remove("open");
        toggle.setAttribute("aria-expanded", "false");
        toggle.focus();
      }
      document.querySelectorAll("details.dropdown[open]").forEach(function (details) {
        details.removeAttribute("open");
        var summary = details.querySelector("summary"); if (summary) { summary.focus(); }
      });
    });
  }

  function initForms() {
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });
    document.querySelectorAll("[data-history-back]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        if (window.history.length > 1) { event.preventDefault(); window.history.back(); }
      });
    });
    document.querySelectorAll("form[data-stepwise]").forEach(initStepwise);
  }

  // Apply an industry template one step per request, so the progress bar moves as it works.
  function initStepwise(form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var total = parseInt(form.getAttribute("data-stepwise"), 10) || 0;
      var bar = form.querySelector("progress");
      var status = form.querySelector("[role=status]");
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
      if (bar) { bar.hidden = false; bar.max = total + 1; bar.value = 0; }
      function step(index) {
        var body = new URLSearchParams();
        body.set("step", String(index));
        fetch(form.action, {
          method: "POST", body: body, credentials: "same-origin",
          headers: { "X-CSRF-Token": csrf, "Accept": "application/json" }
        }).then(function (response) {
          if (!response.ok) { throw new Error(String(response.status)); }
          return response.json();
        }).then(function (result) {
          if (bar) { bar.value = index + 1; }
          if (status && result.plugin) { status.textContent = result.plugin + " (" + (index + 1) + "/" + total + ")"; }
          if (result.done) { window.location.assign("/admin/templates"); } else { step(index + 1); }
        }).catch(function () {
          button.disabled = false;
          button.removeAttribute("aria-busy");
          if (status) { status.textContent = form.getAttribute("data-error") || "✗"; }
        });
      }
      step(0);
    });
  }

  // The bell: unread count and new notifications, live (server-sent events).
  function initNotifications() {
    var bell = document.querySelector("[data-notifications]");
    if (!bell || !window.EventSource) { return; }
    var badge = bell.querySelector("[data-unread-count]");
    var toasts = document.querySelector("[data-toasts]");
    var source = new EventSource(bell.getAttribute("data-stream"));
    source.addEventListener("unread", function (event) {
      var message = JSON.parse(event.data);
      badge.textContent = message.unread > 99 ? "99+" : String(message.unread);
      badge.hidden = message.unread === 0;
      bell.setAttribute("data-unread", String(message.unread));
      (message.items || []).forEach(function (item) { showToast(toasts, bell, item); });
    });
  }

  function showToast(toasts, bell, item) {
    if (!toasts) { return; }
    var toast = document.createElement("a");
    toast.className = "toast level-" + item.level;
    toast.href = item.link || bell.getAttribute("href");
    var label = document.createElement("small");
    label.textContent = bell.getAttribute("data-new-label");
    var title = document.createElement("strong");
    title.textContent = item.title;
    toast.appendChild(label);
    toast.appendChild(title);
    if (item.body) {
      var body = document.createElement("span");
      body.textContent = item.body;
      toast.appendChild(body);
    }
    toasts.appendChild(toast);
    window.setTimeout(function () { toast.remove(); }, item.level === "urgent" ? 20000 : 8000);
  }

  ready(function () {
    initMenu();
    initNotifications();
    initForms();
    initCharts(document);
  });
  document.addEventListener("htmx:afterSettle", function (event) { initCharts(event.target); });
})();
