/* EDS-signed approvals and decisions (issue 16, item 4): the part of an act's form that the
   reason typed by the person adds to the signed document. No build step, no inline script.

   The server builds the act's canonical document (aips.shared.eds.canonical) and the form's
   signing block (workflow/_eds_sign.html) carries it for ncalayer.js:

     <div data-ncalayer=... data-ncalayer-data="BASE64 of the document with an empty reason"
          data-eds-before="BASE64" data-eds-after="BASE64"   the bytes around the reason's JSON
          data-eds-reason="comment">                          the form field holding the reason

   Whenever the reason changes, and right before signing, this file rebuilds the document as
   before + JSON.stringify(normalized reason) + after and puts its base64 in
   data-ncalayer-data, which ncalayer.js reads when the sign button is pressed. JSON.stringify
   escapes a string exactly as the server's json.dumps(ensure_ascii=False) does, and the reason
   is normalized the same way (canonical.normalize_reason: CR LF and CR become LF; spaces, tabs
   and line breaks at either end are dropped), so the server makes the same bytes.

   Before NCALayer is asked, the form's own rules (a required reason, the "I confirm" box) are
   checked: an incomplete form is reported and nothing is signed. */
(function () {
  "use strict";

  function fromBase64(text) {
    var binary = window.atob(text || "");
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) {
      bytes[i] = binary.charCodeAt(i);
    }
    return bytes;
  }

  function toBase64(bytes) {
    var parts = [];
    var chunk = 0x8000;
    for (var i = 0; i < bytes.length; i += chunk) {
      parts.push(String.fromCharCode.apply(null, bytes.subarray(i, i + chunk)));
    }
    return window.btoa(parts.join(""));
  }

  function normalize(text) {
    return String(text || "")
      .replace(/\r\n?/g, "\n")
      .replace(/^[ \t\n]+|[ \t\n]+$/g, "");
  }

  function reasonField(holder, form) {
    var name = holder.getAttribute("data-eds-reason");
    if (!name || !form) {
      return null;
    }
    var field = form.elements.namedItem(name);
    return field && typeof field.value === "string" ? field : null;
  }

  function rebuild(holder, field) {
    if (!field) {
      return; // the server's data-ncalayer-data is already the whole document
    }
    var before = fromBase64(holder.getAttribute("data-eds-before"));
    var after = fromBase64(holder.getAttribute("data-eds-after"));
    var reason = new TextEncoder().encode(JSON.stringify(normalize(field.value)));
    var whole = new Uint8Array(before.length + reason.length + after.length);
    whole.set(before, 0);
    whole.set(reason, before.length);
    whole.set(after, before.length + reason.length);
    holder.setAttribute("data-ncalayer-data", toBase64(whole));
  }

  function wire(holder) {
    var form = holder.closest("form");
    var field = reasonField(holder, form);
    if (field) {
      field.addEventListener("input", function () {
        rebuild(holder, field);
      });
      rebuild(holder, field);
    }
    // Capturing on the block runs before ncalayer.js's listener on the button, and stopping
    // the event here keeps NCALayer from being asked to sign an incomplete form.
    holder.addEventListener(
      "click",
      function (event) {
        if (!event.target.closest || !event.target.closest("[data-ncalayer-sign]")) {
          return;
        }
        rebuild(holder, field);
        if (form && !form.checkValidity()) {
          event.preventDefault();
          event.stopPropagation();
          form.reportValidity();
        }
      },
      true
    );
  }

  function init() {
    var holders = document.querySelectorAll("[data-eds-before]");
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
