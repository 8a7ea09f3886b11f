// The console's live parts, through its JSON API (/api/): the queue refreshes itself, a
// conversation shows what the neighbor writes and each reply's delivery without reloading,
// and quick replies fill the reply box.
(() => {
  "use strict";
  const EVERY_MS = 3000;

  async function getJson(url) {
    const response = await fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}});
    if (response.status === 401) { window.location = "/console/login"; return null; }
    return response.ok ? response.json() : null;
  }

  function every(refresh) {
    const tick = async () => {
      try { await refresh(); } catch (error) { /* the network is down for a moment: try again */ }
      setTimeout(tick, EVERY_MS);
    };
    setTimeout(tick, EVERY_MS);
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // --- the queue ---------------------------------------------------------------------
  const queue = document.getElementById("queue");
  if (queue) {
    const empty = document.getElementById("empty");
    const view = queue.dataset.view;
    const emergencies = JSON.parse(queue.dataset.emergencies);

    const item = (conversation) => {
      const region = conversation.office === null;  // urgent, no commune yet: every office sees it
      const li = element("li", "conversation" + (conversation.urgent ? " urgent" : "") + (region ? " region" : ""));
      li.dataset.id = conversation.id;
      if (conversation.urgent) {
        const kind = emergencies[conversation.emergency_kind];
        li.append(element("strong", "badge", queue.dataset.urgentLabel + (kind ? ": " + kind : "")));
      }
      if (region) li.append(element("strong", "badge region", queue.dataset.regionLabel));
      const office = region ? queue.dataset.regionOffice : conversation.office.name;
      for (const [name, text] of [["intent", conversation.intent_label], ["place", conversation.commune],
                                  ["office", office], ["since", conversation.since]]) {
        li.append(element("span", name, text));
      }
      const link = element("a", "", queue.dataset.openLabel);
      link.href = "/console/conversations/" + conversation.id;
      li.append(link);
      return li;
    };

    every(async () => {
      const data = await getJson("/api/conversations?view=" + encodeURIComponent(view));
      if (!data) return;
      queue.replaceChildren(...data.items.map(item));
      empty.hidden = data.items.length > 0;
      for (const tab of document.querySelectorAll("nav.views a")) tab.textContent = data.labels[tab.dataset.view];
    });
  }

  // --- one conversation ------------------------------------------------------------------
  const transcript = document.getElementById("transcript");
  const facts = document.getElementById("facts");
  if (transcript && facts) {
    const url = "/api/conversations/" + facts.dataset.conversation;
    const deliveryPrefix = (() => {
      const shown = transcript.querySelector(".delivery");
      return shown ? shown.textContent.split(":")[0] + ": " : "";
    })();

    const message = (m) => {
      const li = element("li", "message " + m.direction);
      li.dataset.id = m.id;
      li.append(element("span", "who", m.author_label + " · " + m.at_label), element("p", "text", m.text));
      if (m.media_url && m.media_kind === "photo") {
        const img = element("img", "photo"); img.src = m.media_url; img.alt = ""; li.append(img);
      } else if (m.media_url && m.media_kind === "voice") {
        const audio = element("audio"); audio.controls = true; audio.src = m.media_url; li.append(audio);
      } else if (m.media_url) {
        const link = element("a", "", m.media_kind); link.href = m.media_url; li.append(link);
      }
      if (m.delivery) li.append(element("span", "delivery", deliveryPrefix + m.delivery_label));
      return li;
    };

    let shown = JSON.stringify([...transcript.children].map((li) => li.textContent));
    every(async () => {
      const data = await getJson(url);
      if (!data) return;
      const items = data.messages.map(message);
      const now = JSON.stringify(items.map((li) => li.textContent));
      if (now !== shown) {  // only when something changed: no flicker, audio keeps playing
        transcript.replaceChildren(...items);
        shown = now;
      }
      const status = document.getElementById("status");
      if (status) status.textContent = status.textContent.split(":")[0] + ": " + data.status_label;
    });
  }

  // --- quick replies ---------------------------------------------------------------------
  for (const button of document.querySelectorAll("button.quick")) {
    button.addEventListener("click", () => {
      const box = button.closest("form").querySelector("textarea[name=text]");
      box.value = box.value ? box.value + "\n" + button.dataset.text : button.dataset.text;
      box.focus();
    });
  }
})();
