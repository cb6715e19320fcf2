/* Security keys and platform authenticators (WebAuthn, R57.8, R57.11). No build step, no inline
   script: the page marks its buttons with data- attributes and this file wires them up.

   Sign-in, re-authentication, password change:
     <div data-webauthn-options="OPTIONS_URL" data-webauthn-target="HIDDEN_INPUT_ID">
       <button type="button" data-webauthn-authenticate>…</button></div>
   Adding a key (security page):
     <span data-webauthn-register="OPTIONS_URL" data-webauthn-verify="VERIFY_URL">
       <button type="button" data-webauthn-register-button>…</button></span>

   The CSRF cookie is HttpOnly, so the token is read from the page's csrfmiddlewaretoken input. */
(function () {
  "use strict";

  /* The server's errors arrive translated; these few are the browser's own, in the page's
     language (<html lang>). */
  var CATALOG = {
    en: {
      cancelled: "The security key did not answer (cancelled or timed out).",
      failed: "The request failed. Reload the page and try again.",
      name: "Name for this security key:",
      defaultName: "Security key",
    },
    ru: {
      cancelled: "Ключ безопасности не ответил (отменено или истекло время).",
      failed: "Запрос не выполнен. Обновите страницу и попробуйте ещё раз.",
      name: "Название ключа безопасности:",
      defaultName: "Ключ безопасности",
    },
    kk: {
      cancelled: "Қауіпсіздік кілті жауап бермеді (бас тартылды немесе уақыты өтті).",
      failed: "Сұрау орындалмады. Бетті жаңартып, қайталап көріңіз.",
      name: "Қауіпсіздік кілтінің атауы:",
      defaultName: "Қауіпсіздік кілті",
    },
  };
  var MESSAGES =
    CATALOG[(document.documentElement.lang || "en").slice(0, 2).toLowerCase()] || CATALOG.en;

  function b64urlToBuffer(value) {
    var b64 = String(value).replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) {
      b64 += "=";
    }
    var binary = atob(b64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) {
      bytes[i] = binary.charCodeAt(i);
    }
    return bytes.buffer;
  }

  function bufferToB64url(buffer) {
    if (buffer === null || buffer === undefined) {
      return null;
    }
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) {
      binary += String.fromCharCode(bytes[i]);
    }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function csrfToken(element) {
    var form = element.closest("form");
    var input =
      (form && form.querySelector("input[name=csrfmiddlewaretoken]")) ||
      document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  /* POST JSON; resolves with the parsed JSON body, rejects with an Error carrying the server's
     message. A redirect (the session needs a fresh password and second factor) is followed by
     sending the whole page there. */
  function postJson(url, body, element) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRFToken": csrfToken(element),
        "X-Requested-With": "XMLHttpRequest",
      },
      body: JSON.stringify(body || {}),
    }).then(function (response) {
      if (response.redirected) {
        var target = new URL(response.url, window.location.href);
        if (target.origin === window.location.origin) {
          target.searchParams.set("next", window.location.pathname);
          window.location.assign(target.toString());
          return new Promise(function () {});
        }
      }
      var type = response.headers.get("Content-Type") || "";
      if (type.indexOf("application/json") === -1) {
        throw new Error(MESSAGES.failed);
      }
      return response.json().then(function (data) {
        if (!response.ok) {
          var message = data && data.error && data.error.message;
          throw new Error(message || MESSAGES.failed);
        }
        return data;
      });
    });
  }

  function descriptors(list) {
    return (list || []).map(function (item) {
      var copy = { type: item.type || "public-key", id: b64urlToBuffer(item.id) };
      if (item.transports) {
        copy.transports = item.transports;
      }
      return copy;
    });
  }

  function requestOptions(json) {
    var options = Object.assign({}, json);
    options.challenge = b64urlToBuffer(json.challenge);
    options.allowCredentials = descriptors(json.allowCredentials);
    return options;
  }

  function creationOptions(json) {
    var options = Object.assign({}, json);
    options.challenge = b64urlToBuffer(json.challenge);
    options.user = Object.assign({}, json.user, { id: b64urlToBuffer(json.user.id) });
    options.excludeCredentials = descriptors(json.excludeCredentials);
    return options;
  }

  function extensions(credential) {
    try {
      return credential.getClientExtensionResults() || {};
    } catch (e) {
      return {};
    }
  }

  function assertionJson(credential) {
    var response = credential.response;
    return {
      id: credential.id,
      rawId: bufferToB64url(credential.rawId),
      type: credential.type,
      response: {
        clientDataJSON: bufferToB64url(response.clientDataJSON),
        authenticatorData: bufferToB64url(response.authenticatorData),
        signature: bufferToB64url(response.signature),
        userHandle: response.userHandle ? bufferToB64url(response.userHandle) : null,
      },
      clientExtensionResults: extensions(credential),
      authenticatorAttachment: credential.authenticatorAttachment || null,
    };
  }

  function attestationJson(credential) {
    var response = credential.response;
    var transports = [];
    if (typeof response.getTransports === "function") {
      try {
        transports = response.getTransports() || [];
      } catch (e) {
        transports = [];
      }
    }
    return {
      id: credential.id,
      rawId: bufferToB64url(credential.rawId),
      type: credential.type,
      response: {
        clientDataJSON: bufferToB64url(response.clientDataJSON),
        attestationObject: bufferToB64url(response.attestationObject),
        transports: transports,
      },
      clientExtensionResults: extensions(credential),
      authenticatorAttachment: credential.authenticatorAttachment || null,
    };
  }

  function browserError(error) {
    if (error && (error.name === "NotAllowedError" || error.name === "AbortError")) {
      return MESSAGES.cancelled;
    }
    return (error && error.message) || MESSAGES.failed;
  }

  function submit(form) {
    if (typeof form.requestSubmit === "function") {
      form.requestSubmit();
    } else {
      form.submit();
    }
  }

  function wireAuthenticate(button) {
    var holder = button.closest("[data-webauthn-options]");
    if (!holder) {
      return;
    }
    button.addEventListener("click", function (event) {
      event.preventDefault();
      var target = document.getElementById(holder.getAttribute("data-webauthn-target") || "");
      var form = (target && target.form) || button.closest("form");
      if (!target || !form) {
        return;
      }
      button.disabled = true;
      postJson(holder.getAttribute("data-webauthn-options"), {}, button)
        .then(function (json) {
          return navigator.credentials.get({ publicKey: requestOptions(json) });
        })
        .then(function (credential) {
          if (!credential) {
            throw new Error(MESSAGES.cancelled);
          }
          target.value = JSON.stringify(assertionJson(credential));
          submit(form);
        })
        .catch(function (error) {
          button.disabled = false;
          window.alert(browserError(error));
        });
    });
  }

  function wireRegister(button) {
    var holder = button.closest("[data-webauthn-register]");
    if (!holder) {
      return;
    }
    button.addEventListener("click", function (event) {
      event.preventDefault();
      var name = window.prompt(MESSAGES.name, MESSAGES.defaultName);
      if (name === null) {
        return;
      }
      name = name.trim() || MESSAGES.defaultName;
      button.disabled = true;
      postJson(holder.getAttribute("data-webauthn-register"), {}, button)
        .then(function (json) {
          return navigator.credentials.create({ publicKey: creationOptions(json) });
        })
        .then(function (credential) {
          if (!credential) {
            throw new Error(MESSAGES.cancelled);
          }
          return postJson(
            holder.getAttribute("data-webauthn-verify"),
            { name: name, credential: attestationJson(credential) },
            button
          );
        })
        .then(function () {
          window.location.reload();
        })
        .catch(function (error) {
          button.disabled = false;
          window.alert(browserError(error));
        });
    });
  }

  function hide(button, holderSelector) {
    var holder = button.closest(holderSelector) || button;
    holder.hidden = true;
    holder.style.display = "none";
  }

  function init() {
    var authenticate = document.querySelectorAll("[data-webauthn-authenticate]");
    var register = document.querySelectorAll("[data-webauthn-register-button]");
    var supported =
      typeof window.PublicKeyCredential !== "undefined" &&
      !!navigator.credentials &&
      typeof window.fetch === "function";
    var i;
    if (!supported) {
      // An inline style: the stylesheet's button.primary { display } would win over [hidden].
      for (i = 0; i < authenticate.length; i++) {
        hide(authenticate[i], "[data-webauthn-options]");
      }
      for (i = 0; i < register.length; i++) {
        hide(register[i], "[data-webauthn-register]");
      }
      return;
    }
    for (i = 0; i < authenticate.length; i++) {
      if (!authenticate[i].hasAttribute("data-webauthn-ready")) {
        authenticate[i].setAttribute("data-webauthn-ready", "");
        wireAuthenticate(authenticate[i]);
      }
    }
    for (i = 0; i < register.length; i++) {
      if (!register[i].hasAttribute("data-webauthn-ready")) {
        register[i].setAttribute("data-webauthn-ready", "");
        wireRegister(register[i]);
      }
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
