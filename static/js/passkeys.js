// Passkeys (WebAuthn), on Sign-in and security and at the second step of signing in.
// A form marked data-passkey posts itself (with fetch) to its own action for the options,
// hands them to the browser's WebAuthn API, and posts the browser's answer in the hidden form
// named by data-finish, as an ordinary form: the page that comes back is the server's.
// Without JavaScript or WebAuthn the forms stay hidden and the page says why.
(function () {
  "use strict";
  if (!window.PublicKeyCredential || !navigator.credentials) {
    return;
  }

  var MESSAGES = {
    NotAllowedError: "Nothing was done: the passkey request was cancelled or took too long. Try again.",
    InvalidStateError: "This device already has a passkey for your rostersync account.",
    SecurityError: "This browser refused the passkey for this web address. Open rostersync at its usual address and try again."
  };

  function toBuffer(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    base64 += "===".slice((base64.length + 3) % 4);
    var raw = atob(base64);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) {
      bytes[i] = raw.charCodeAt(i);
    }
    return bytes.buffer;
  }

  function toText(buffer) {
    var bytes = new Uint8Array(buffer);
    var raw = "";
    for (var i = 0; i < bytes.length; i++) {
      raw += String.fromCharCode(bytes[i]);
    }
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function withBuffers(options) {
    options.challenge = toBuffer(options.challenge);
    if (options.user) {
      options.user.id = toBuffer(options.user.id);
    }
    (options.excludeCredentials || options.allowCredentials || []).forEach(function (credential) {
      credential.id = toBuffer(credential.id);
    });
    return options;
  }

  function answerOf(credential) {
    var response = credential.response;
    var answer = {
      id: credential.id, rawId: toText(credential.rawId), type: credential.type,
      response: {clientDataJSON: toText(response.clientDataJSON)},
      clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {}
    };
    if (response.attestationObject) {
      answer.response.attestationObject = toText(response.attestationObject);
      answer.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      answer.response.authenticatorData = toText(response.authenticatorData);
      answer.response.signature = toText(response.signature);
      if (response.userHandle) {
        answer.response.userHandle = toText(response.userHandle);
      }
    }
    if (credential.authenticatorAttachment) {
      answer.authenticatorAttachment = credential.authenticatorAttachment;
    }
    return JSON.stringify(answer);
  }

  function askServer(form) {
    return fetch(form.action, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: {"Accept": "application/json"}
    }).then(function (response) {
      return response.json().catch(function () {
        return {error: "rostersync could not start the passkey (error " + response.status + "). Reload the page and try again."};
      }).then(function (body) {
        if (!response.ok || body.error) {
          throw new Error(body.error || "rostersync could not start the passkey. Reload the page and try again.");
        }
        return body;
      });
    });
  }

  function showProblem(form, message) {
    var box = form.querySelector("[data-passkey-error]");
    box.textContent = message;
    box.hidden = false;
    var field = form.querySelector("input[type=text]");
    if (field) {
      field.setAttribute("aria-invalid", "true");
      field.focus();
    }
  }

  function run(form, button) {
    button.disabled = true;
    askServer(form).then(function (options) {
      var publicKey = withBuffers(options);
      return form.dataset.passkey === "register"
        ? navigator.credentials.create({publicKey: publicKey})
        : navigator.credentials.get({publicKey: publicKey});
    }).then(function (credential) {
      var finish = document.getElementById(form.dataset.finish);
      finish.querySelector("input[name=credential]").value = answerOf(credential);
      finish.submit();
    }).catch(function (error) {
      button.disabled = false;
      showProblem(form, MESSAGES[error.name] || error.message);
    });
  }

  document.querySelectorAll("[data-passkey-unsupported]").forEach(function (note) {
    note.hidden = true;
  });
  document.querySelectorAll("form[data-passkey]").forEach(function (form) {
    form.hidden = false;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      run(form, form.querySelector("button[type=submit]"));
    });
  });
})();
