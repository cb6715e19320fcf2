/* Signing with an EDS key through NCALayer (R57.9, R57.10; EDS-signed approvals). No build step,
   no inline script: a page marks a block with data- attributes and this file wires it up.

   NCALayer is the NCA RK application on the person's computer: a WebSocket server (by default
   wss://127.0.0.1:13579, the setting AIPS_NCALAYER_URL, which every page gets as
   {{ aips_ncalayer_url }} and the CSP's connect-src allows). This file speaks its
   "kz.gov.pki.knca.basics" module:

     request   {"module": "kz.gov.pki.knca.basics", "method": "sign", "args": {
                  "allowedStorages": null | ["PKCS12", "AKKaztokenStore", ...],
                  "format": "cms", "data": "<base64 of the bytes to sign>",
                  "signingParams": {"decode": true, "encapsulate": true|false, "digested": false
                                    [, "tsaProfile": {}]},
                  "signerParams": {"extKeyUsageOids": ["1.3.6.1.5.5.7.3.2", ...], "chain": []},
                  "locale": "kk" | "ru"}}
     signed    {"status": true, "body": {"result": "<base64 CMS>" | ["<base64 CMS>"]}}
     cancelled {"status": true, "body": {}}             (the person closed NCALayer's window)
     failure   {"status": false, "code": "...", "message": "...", "details": "..."}
   On connecting NCALayer first sends {"result": {"version": "..."}}; that greeting is skipped.
   "chain": [] lets NCALayer offer any certificate: the server decides what it trusts.

   The contract for a page (sign-in, binding an EDS, approvals):

     <form method="post">{% csrf_token %}
       <input type="hidden" name="eds_cms" id="id_eds_cms">
       <div data-ncalayer="{{ aips_ncalayer_url }}"
            data-ncalayer-data="BASE64"            the bytes to sign (from the server)
            data-ncalayer-purpose="authentication" or "signing": which key NCALayer offers
                                                   (EKU client auth 1.3.6.1.5.5.7.3.2, or e-mail
                                                   protection 1.3.6.1.5.5.7.3.4)
            data-ncalayer-target="id_eds_cms"      the input that receives the base64 CMS
            data-ncalayer-eku="OID,OID"            optional: more OIDs the certificate must carry
                                                   (NCA role OIDs, e.g. 1.2.398.3.3.4.1.2.1 head)
            data-ncalayer-attach="true|false"      optional: the data inside the CMS (default:
                                                   true for authentication, false for signing)
            data-ncalayer-tsa="true|false"         optional: an NCA timestamp in the CMS (default:
                                                   false for authentication, true for signing)
            data-ncalayer-storages="PKCS12,..."    optional: key stores offered (default: all)
            data-ncalayer-submit="false">          optional: do not submit the form once signed
         <button type="button" data-ncalayer-sign>…</button>
         <p data-ncalayer-status hidden></p>       optional: progress and errors are shown here
       </div>
     </form>

   Once NCALayer answers with a signature, the target input gets the CMS (base64, PEM armour and
   line breaks removed) and the form is submitted (requestSubmit, so its submit handlers run).
   The block also receives the events "ncalayer:signed" (detail.cms) and "ncalayer:failed"
   (detail.reason: "absent", "cancelled", "refused", "closed" or "malformed"; detail.message).
   Messages are in the page's language (<html lang>): kk, ru, en. */
(function () {
  "use strict";

  var MODULE = "kz.gov.pki.knca.basics";
  var PURPOSE_EKU = {
    authentication: "1.3.6.1.5.5.7.3.2",
    signing: "1.3.6.1.5.5.7.3.4",
  };
  var OPEN_TIMEOUT_MS = 10000;

  var CATALOG = {
    en: {
      waiting: "Waiting for NCALayer: choose your key and enter its password in the NCALayer window.",
      absent:
        "NCALayer is not running on this computer. Start NCALayer (it is installed from pki.gov.kz) and try again.",
      cancelled: "Signing was cancelled in NCALayer.",
      refused: "NCALayer could not sign: %s",
      closed: "NCALayer closed the connection before answering. Try again.",
      malformed: "NCALayer sent an answer AIPS cannot read. Update NCALayer and try again.",
      signed: "Signed. Checking the signature…",
    },
    ru: {
      waiting: "Ожидание NCALayer: выберите ключ и введите его пароль в окне NCALayer.",
      absent:
        "NCALayer не запущен на этом компьютере. Запустите NCALayer (устанавливается с pki.gov.kz) и повторите попытку.",
      cancelled: "Подписание отменено в NCALayer.",
      refused: "NCALayer не смог подписать: %s",
      closed: "NCALayer закрыл соединение, не ответив. Повторите попытку.",
      malformed: "NCALayer прислал ответ, который АСОИ не может прочитать. Обновите NCALayer и повторите попытку.",
      signed: "Подписано. Проверяем подпись…",
    },
    kk: {
      waiting: "NCALayer күтілуде: NCALayer терезесінде кілтіңізді таңдап, оның құпиясөзін енгізіңіз.",
      absent:
        "Бұл компьютерде NCALayer іске қосылмаған. NCALayer-ді іске қосып (ол pki.gov.kz сайтынан орнатылады), қайталап көріңіз.",
      cancelled: "NCALayer-де қол қою тоқтатылды.",
      refused: "NCALayer қол қоя алмады: %s",
      closed: "NCALayer жауап бермей қосылымды жапты. Қайталап көріңіз.",
      malformed: "NCALayer ААӨЖ оқи алмайтын жауап жіберді. NCALayer-ді жаңартып, қайталап көріңіз.",
      signed: "Қол қойылды. Қолтаңба тексерілуде…",
    },
  };
  var LANGUAGE = (document.documentElement.lang || "en").slice(0, 2).toLowerCase();
  var MESSAGES = CATALOG[LANGUAGE] || CATALOG.en;

  function NcaLayerError(reason, message) {
    this.reason = reason;
    this.message = message;
  }

  function flag(holder, name, fallback) {
    var value = holder.getAttribute(name);
    if (value === null || value === "") {
      return fallback;
    }
    return value === "true";
  }

  function list(value) {
    return String(value || "")
      .split(",")
      .map(function (item) {
        return item.trim();
      })
      .filter(Boolean);
  }

  /* The request NCALayer's basics module takes (see the contract above). */
  function signRequest(holder) {
    var purpose = holder.getAttribute("data-ncalayer-purpose") || "signing";
    var signing = purpose !== "authentication";
    var oids = [PURPOSE_EKU[purpose] || PURPOSE_EKU.signing].concat(
      list(holder.getAttribute("data-ncalayer-eku"))
    );
    var storages = list(holder.getAttribute("data-ncalayer-storages"));
    var signingParams = {
      decode: true,
      encapsulate: flag(holder, "data-ncalayer-attach", !signing),
      digested: false,
    };
    if (flag(holder, "data-ncalayer-tsa", signing)) {
      signingParams.tsaProfile = {};
    }
    return {
      module: MODULE,
      method: "sign",
      args: {
        allowedStorages: storages.length ? storages : null,
        format: "cms",
        data: holder.getAttribute("data-ncalayer-data") || "",
        signingParams: signingParams,
        signerParams: { extKeyUsageOids: oids, chain: [] },
        locale: LANGUAGE === "kk" ? "kk" : "ru",
      },
    };
  }

  /* The base64 CMS from a successful answer's body, or "" when there is none. */
  function signatureFrom(body) {
    var result = body ? body.result : undefined;
    if (result && typeof result === "object" && !Array.isArray(result) && result.signatures) {
      result = result.signatures; // with signingParams.outputCert
    }
    if (Array.isArray(result)) {
      result = result[0];
    }
    if (typeof result !== "string") {
      return "";
    }
    return result.replace(/-----(BEGIN|END) [A-Z0-9 ]+-----/g, "").replace(/\s+/g, "");
  }

  /* One WebSocket, one request, one answer: resolves with the base64 CMS, rejects with an
     NcaLayerError. */
  function sign(url, request) {
    return new Promise(function (resolve, reject) {
      var socket;
      var settled = false;
      var opened = false;
      var timer = null;

      function finish(error, value) {
        if (settled) {
          return;
        }
        settled = true;
        if (timer !== null) {
          window.clearTimeout(timer);
        }
        try {
          socket.close();
        } catch (e) {
          /* already closed */
        }
        if (error) {
          reject(error);
        } else {
          resolve(value);
        }
      }

      try {
        socket = new WebSocket(url);
      } catch (e) {
        // A malformed URL or one the page's CSP refuses: the same as NCALayer not running.
        reject(new NcaLayerError("absent", MESSAGES.absent));
        return;
      }
      timer = window.setTimeout(function () {
        if (!opened) {
          finish(new NcaLayerError("absent", MESSAGES.absent));
        }
      }, OPEN_TIMEOUT_MS);

      socket.onopen = function () {
        opened = true;
        window.clearTimeout(timer);
        timer = null;
        socket.send(JSON.stringify(request));
      };
      socket.onerror = function () {
        finish(
          new NcaLayerError(opened ? "closed" : "absent", opened ? MESSAGES.closed : MESSAGES.absent)
        );
      };
      socket.onclose = function () {
        finish(
          new NcaLayerError(opened ? "closed" : "absent", opened ? MESSAGES.closed : MESSAGES.absent)
        );
      };
      socket.onmessage = function (event) {
        var answer;
        try {
          answer = JSON.parse(event.data);
        } catch (e) {
          finish(new NcaLayerError("malformed", MESSAGES.malformed));
          return;
        }
        if (!answer || typeof answer !== "object") {
          finish(new NcaLayerError("malformed", MESSAGES.malformed));
          return;
        }
        if (!Object.prototype.hasOwnProperty.call(answer, "status")) {
          if (answer.result && answer.result.version) {
            return; // the greeting NCALayer sends on connecting
          }
          if (answer.code && String(answer.code) !== "200") {
            // The older commonUtils answer shape: {"code": "500", "message": "..."}
            finish(
              new NcaLayerError(
                "refused",
                MESSAGES.refused.replace("%s", String(answer.message || answer.code))
              )
            );
          }
          return;
        }
        if (answer.status !== true) {
          var why = [answer.code, answer.message].filter(Boolean).join(": ") || "?";
          finish(new NcaLayerError("refused", MESSAGES.refused.replace("%s", why)));
          return;
        }
        if (!answer.body || !Object.prototype.hasOwnProperty.call(answer.body, "result")) {
          finish(new NcaLayerError("cancelled", MESSAGES.cancelled));
          return;
        }
        var cms = signatureFrom(answer.body);
        if (!cms) {
          finish(new NcaLayerError("malformed", MESSAGES.malformed));
          return;
        }
        finish(null, cms);
      };
    });
  }

  function show(status, message, isError) {
    if (!status) {
      if (isError) {
        window.alert(message);
      }
      return;
    }
    status.textContent = message;
    status.hidden = !message;
    status.classList.toggle("errorlist", !!isError);
    status.classList.toggle("muted", !isError);
    status.setAttribute("role", isError ? "alert" : "status");
  }

  function submit(form) {
    if (typeof form.requestSubmit === "function") {
      form.requestSubmit();
    } else {
      form.submit();
    }
  }

  function wire(holder) {
    var button = holder.querySelector("[data-ncalayer-sign]");
    if (!button) {
      return;
    }
    var status = holder.querySelector("[data-ncalayer-status]");
    button.addEventListener("click", function (event) {
      event.preventDefault();
      var target = document.getElementById(holder.getAttribute("data-ncalayer-target") || "");
      var form = (target && target.form) || holder.closest("form");
      button.disabled = true;
      show(status, MESSAGES.waiting, false);
      sign(holder.getAttribute("data-ncalayer"), signRequest(holder))
        .then(function (cms) {
          if (target) {
            target.value = cms;
          }
          show(status, MESSAGES.signed, false);
          holder.dispatchEvent(
            new CustomEvent("ncalayer:signed", { bubbles: true, detail: { cms: cms } })
          );
          if (form && flag(holder, "data-ncalayer-submit", true)) {
            submit(form);
          } else {
            button.disabled = false;
          }
        })
        .catch(function (error) {
          var reason = (error && error.reason) || "closed";
          var message = (error && error.message) || MESSAGES.closed;
          button.disabled = false;
          show(status, message, true);
          holder.dispatchEvent(
            new CustomEvent("ncalayer:failed", {
              bubbles: true,
              detail: { reason: reason, message: message },
            })
          );
        });
    });
  }

  function init() {
    var holders = document.querySelectorAll("[data-ncalayer]");
    for (var i = 0; i < holders.length; i++) {
      wire(holders[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
