/* The live view of an auction (etp_auctions/live.html). No build step, no inline script: the
   page marks its parts with data-live="…" and this file keeps them current.

   Every second it asks the state API (data-auction-live) with If-None-Match: an unchanged
   auction answers 304 with no body; a changed one answers the state with only the accepted
   bids after `since` (the last sequence seen), so a view that lost its connection resumes where
   it left off. The time left is counted from the server's `ends_at` and `server_time` (the
   offset between the server's clock and this device's), never from the device's clock alone;
   the server decides every state change, this page only shows them.

   Where the server offers server-sent events (data-events-url, PostgreSQL with `etp live`), an
   EventSource receives each change as it is committed and the poll slows to every few seconds
   for the viewer's own position (never in the public events), or stops for the public; if the
   stream fails, the page falls back to polling every second.

   The bid form (data-live-bid) posts to the bid API (data-auction-bid) with fetch and the CSRF
   token of the form; without JavaScript it posts to the page's own bid URL. */
(function () {
  "use strict";

  var root = document.querySelector("[data-auction-live]");
  if (!root) {
    return;
  }
  var text = document.getElementById("auction-live-text");
  var t = function (key) {
    return (text && text.getAttribute("data-" + key)) || key;
  };
  var stateUrl = root.getAttribute("data-auction-live");
  var bidUrl = root.getAttribute("data-auction-bid");
  var etag = "";
  var since = parseInt(root.getAttribute("data-sequence") || "0", 10) || 0;
  var lastBid = since; // the bids on the page: each is appended once, whichever path brings it
  var eventsUrl = root.getAttribute("data-events-url") || "";
  var source = null;
  var every = 1000; // the poll's interval; 0: no poll (the events bring everything)
  var endsAt = Date.parse(root.getAttribute("data-ends-at") || "");
  var offset = Date.parse(root.getAttribute("data-server-time") || "") - Date.now();
  var state = root.getAttribute("data-state") || "";
  var failures = 0;
  var timer = null;
  var form = root.querySelector("[data-live-bid]");
  var suggested = null;

  function part(name) {
    return root.querySelector('[data-live="' + name + '"]');
  }
  function show(name, value) {
    var node = part(name);
    if (node) {
      node.textContent = value === null || value === undefined || value === "" ? "—" : value;
    }
  }
  function field(name) {
    return form ? form.querySelector('[name="' + name + '"]') : null;
  }
  function two(n) {
    return (n < 10 ? "0" : "") + n;
  }
  function tick() {
    var node = part("time_left");
    if (!node) {
      return;
    }
    if (state !== "running" || isNaN(endsAt)) {
      node.textContent = "—";
      return;
    }
    var left = Math.max(0, Math.floor((endsAt - (Date.now() + offset)) / 1000));
    var h = Math.floor(left / 3600);
    var m = Math.floor((left % 3600) / 60);
    node.textContent = (h ? h + ":" + two(m) : String(m)) + ":" + two(left % 60);
  }

  function apply(data) {
    offset = Date.parse(data.server_time) - Date.now();
    endsAt = Date.parse(data.ends_at);
    state = data.state;
    root.setAttribute("data-state", state);
    show("state_label", t(data.state));
    show("phase_label", t(data.phase));
    show("current_price", data.current_price);
    show("minimum_bid", data.minimum_bid);
    show("best_amount", data.best_amount);
    var best = part("best_participant");
    if (best) {
      best.textContent = data.best_participant || "";
    }
    show("ends_at", new Date(endsAt).toLocaleString(document.documentElement.lang || undefined));
    if (data.outcome === "no_contract") {
      // The winner (and the runner-up) did not sign: no sale, a repeat follows.
      show("outcome", t(data.outcome));
    } else if (data.winner) {
      show("outcome", data.winner + ": " + data.winning_amount + " " +
        (root.getAttribute("data-currency") || ""));
    } else if (data.outcome) {
      show("outcome", t(data.outcome));
    }
    var list = part("bids");
    if (list && data.bids && data.bids.length) {
      var none = part("no_bids");
      if (none) {
        none.hidden = true;
      }
      var currency = root.getAttribute("data-currency") || "";
      data.bids.forEach(function (bid) {
        if (bid.sequence <= lastBid) {
          return;
        }
        lastBid = bid.sequence;
        var item = document.createElement("li");
        item.textContent = bid.participant + ": " + bid.amount + " " + currency + ", " +
          new Date(bid.at).toLocaleTimeString(document.documentElement.lang || undefined);
        list.appendChild(item);
      });
    }
    since = data.sequence;
    if (data.viewer) {
      show("viewer_participant", data.viewer.participant);
      show("viewer_best_bid", data.viewer.best_bid);
      show("viewer_leading", data.viewer.leading ? t("yes") : t("no"));
    }
    if (form) {
      var seen = field("seen_price");
      var amount = field("amount");
      if (seen && data.current_price !== null) {
        seen.value = data.current_price;
      }
      var next = data.minimum_bid !== null ? data.minimum_bid : data.current_price;
      // A bid being typed is left alone; the suggestion follows the price otherwise.
      if (amount && next !== null && (amount.value === "" || amount.value === suggested ||
          suggested === null)) {
        amount.value = next;
      }
      suggested = next;
      var button = form.querySelector("button[type=submit]");
      if (button) {
        button.disabled = state !== "running";
      }
    }
    tick();
  }

  function schedule(ms) {
    if (timer) {
      window.clearTimeout(timer);
    }
    timer = window.setTimeout(poll, ms);
  }

  function poll() {
    var headers = { Accept: "application/json" };
    if (etag) {
      headers["If-None-Match"] = etag;
    }
    fetch(stateUrl + "?since=" + encodeURIComponent(since), {
      headers: headers,
      credentials: "same-origin",
      cache: "no-store",
    })
      .then(function (response) {
        if (response.status === 304) {
          return null;
        }
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        etag = response.headers.get("ETag") || "";
        return response.json();
      })
      .then(function (data) {
        if (failures) {
          show("status", t("live-text"));
        }
        failures = 0;
        if (data) {
          apply(data);
        }
        if (state === "closed" || state === "unsuccessful" || !every) {
          return; // final: nothing moves any more (or the events bring it)
        }
        schedule(every);
      })
      .catch(function () {
        failures += 1;
        show("status", t("offline"));
        schedule(Math.min(1000 * failures, 5000));
      });
  }

  if (form && bidUrl) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var token = form.querySelector("[name=csrfmiddlewaretoken]");
      var result = part("bid_result");
      var button = form.querySelector("button[type=submit]");
      if (button) {
        button.disabled = true;
      }
      fetch(bidUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-CSRFToken": token ? token.value : "",
        },
        body: JSON.stringify({
          amount: field("amount").value,
          seen_price: field("seen_price").value,
        }),
      })
        .then(function (response) {
          return response.json().then(function (body) {
            return { ok: response.ok, body: body };
          });
        })
        .then(function (answer) {
          if (answer.ok) {
            result.textContent = t("accepted");
          } else {
            var error = answer.body && answer.body.error;
            result.textContent = (error && error.message) || t("failed");
          }
        })
        .catch(function () {
          result.textContent = t("failed");
        })
        .then(function () {
          if (button) {
            button.disabled = state !== "running";
          }
          etag = "";
          poll();
        });
    });
  }

  var refresh = root.querySelector("[data-live-refresh]");
  if (refresh) {
    refresh.hidden = true;
  }
  function listen() {
    var viewerShown = Boolean(part("viewer_participant"));
    var url = eventsUrl + (eventsUrl.indexOf("?") < 0 ? "?" : "&") + "since=" + since;
    source = new window.EventSource(url);
    every = viewerShown ? 5000 : 0;
    source.onmessage = function (message) {
      var data;
      try {
        data = JSON.parse(message.data);
      } catch (error) {
        return;
      }
      apply(data);
      show("status", t("live-text"));
      if (state === "closed" || state === "unsuccessful") {
        source.close();
      }
    };
    source.onerror = function () {
      // The stream failed (no live server, a proxy in the way): poll every second instead.
      source.close();
      source = null;
      every = 1000;
      schedule(1000);
    };
  }

  show("status", t("live-text"));
  window.setInterval(tick, 250);
  tick();
  if (eventsUrl && window.EventSource && state !== "closed" && state !== "unsuccessful") {
    listen();
    if (every) {
      schedule(every);
    }
  } else {
    schedule(1000);
  }
})();
