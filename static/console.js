// Keeps the console's queue current without reloading: polls the same view as JSON.
(() => {
  "use strict";
  const list = document.getElementById("queue");
  if (!list) return;
  const empty = document.getElementById("empty");
  const view = list.dataset.view;
  const openLabel = list.dataset.openLabel;
  const EVERY_MS = 3000;

  function item(conversation) {
    const li = document.createElement("li");
    li.className = "conversation" + (conversation.urgent ? " urgent" : "");
    li.dataset.id = conversation.id;
    if (conversation.urgent) {
      const badge = document.createElement("strong");
      badge.className = "badge";
      badge.textContent = conversation.urgent_label;
      li.append(badge);
    }
    for (const [name, text] of [["intent", conversation.intent], ["place", conversation.commune],
                                ["office", conversation.office], ["since", conversation.since]]) {
      const span = document.createElement("span");
      span.className = name;
      span.textContent = text;
      li.append(span);
    }
    const link = document.createElement("a");
    link.href = "/console/conversations/" + conversation.id;
    link.textContent = openLabel;
    li.append(link);
    return li;
  }

  async function refresh() {
    try {
      const response = await fetch("/console/api/queue?view=" + encodeURIComponent(view), {credentials: "same-origin"});
      if (response.status === 401) { window.location = "/console/login"; return; }
      if (!response.ok) return;
      const data = await response.json();
      list.replaceChildren(...data.items.map(item));
      empty.hidden = data.items.length > 0;
      for (const tab of document.querySelectorAll("nav.views a")) {
        tab.textContent = data.labels[tab.dataset.view];
      }
    } catch (error) {
      // The network is down for a moment: the next poll tries again.
    }
  }

  setInterval(refresh, EVERY_MS);
})();
