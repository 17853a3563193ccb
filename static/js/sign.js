/* The sign form's drawn signature (signature_pad, served by this site) and the copy button.
   Without scripts the form still works: the signer types her name instead. */
(function () {
  "use strict";

  function setUpPad(box) {
    if (typeof SignaturePad === "undefined") return;
    var pad = box.querySelector(".pad");
    var canvas = box.querySelector("canvas");
    var input = box.querySelector("input[name=signature]");
    var typed = box.querySelector(".typed");
    var form = box.closest("form");
    // The form came back with the name she typed instead of drawing (and maybe an error on
    // it): she stays with the typed name, and sees the error.
    var typing = typed.querySelector("input").value !== "" && !input.value;
    pad.hidden = typing;
    typed.hidden = !typing;
    var signaturePad = new SignaturePad(canvas, { minWidth: 0.8, maxWidth: 2.6, penColor: "#102a43" });
    // Draw at the device's pixel ratio but keep the stored image small.
    var ratio = Math.min(window.devicePixelRatio || 1, 2);

    function resize() {
      canvas.width = canvas.offsetWidth * ratio;
      canvas.height = canvas.offsetHeight * ratio;
      canvas.getContext("2d").scale(ratio, ratio);
      signaturePad.redraw();  // the strokes, over a signature put back below
    }
    window.addEventListener("resize", resize);
    resize();
    // The form came back with an error: put back the signature she drew, not an empty box.
    if (input.value) {
      signaturePad.fromDataURL(input.value, { ratio: ratio }).catch(function () {
        signaturePad.clear();
        input.value = "";
      });
    }

    box.querySelector("[data-clear]").addEventListener("click", function () {
      signaturePad.clear();
      input.value = "";
    });
    // Someone who cannot draw (keyboard, screen reader) signs with her typed name.
    box.querySelector("[data-type-instead]").addEventListener("click", function () {
      signaturePad.clear();
      pad.hidden = true;
      typed.hidden = false;
      typed.querySelector("input").focus();
    });
    form.addEventListener("submit", function () {
      input.value = signaturePad.isEmpty() ? "" : signaturePad.toDataURL("image/png");
    });
  }

  function setUpCopy(button) {
    var source = document.querySelector(button.getAttribute("data-copy"));
    var done = button.parentNode.querySelector("[data-copied]");
    if (!source || !navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(source.value).then(function () {
        // A live region present from the start, filled now: screen readers announce it.
        if (done) done.textContent = done.getAttribute("data-copied");
      });
    });
  }

  function setUpHelper(form) {
    var box = form.querySelector("input[name=on_behalf]");
    var helper = form.querySelector(".field.helper");
    if (!box || !helper) return;
    var name = helper.querySelector("input");
    // Hidden, its name is not sent either: unticking means no one helped.
    function sync() {
      helper.hidden = !box.checked;
      if (name) name.disabled = !box.checked;
    }
    box.addEventListener("change", sync);
    sync();
  }

  // A second tap on a slow connection must not sign twice: the form goes once per page view.
  function setUpOnce(form) {
    var sent = false;
    form.addEventListener("submit", function (event) {
      if (sent) event.preventDefault();
      sent = true;
      // A deliberate retry (the first attempt stopped) works after a while.
      window.setTimeout(function () { sent = false; }, 15000);
    });
    window.addEventListener("pageshow", function () { sent = false; });  // back, from the cache
  }

  function setUpRegion(form) {
    var select = form.querySelector("select[name=region]");
    var other = form.querySelector("input[name=region_other]");
    if (!select || !other) return;
    var field = other.closest(".field");
    function sync() { field.hidden = select.value !== "other"; }
    select.addEventListener("change", sync);
    sync();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-signature]").forEach(setUpPad);
    document.querySelectorAll("[data-copy]").forEach(setUpCopy);
    document.querySelectorAll("form.sign-form").forEach(setUpHelper);
    document.querySelectorAll("form.sign-form").forEach(setUpRegion);
    document.querySelectorAll("form.sign-form").forEach(setUpOnce);
  });
})();

/* The appeal page is the same for every visitor (a proxy may keep it): what makes its forms
   hers (her CSRF token, the stamp of when the form was shown) is fetched once it has loaded. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-form-token-url]");
    if (!form || !window.fetch) return;
    fetch(form.getAttribute("data-form-token-url"), { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (values) {
        if (!values) return;
        document.querySelectorAll("input[data-form-token]").forEach(function (input) {
          var value = values[input.getAttribute("data-form-token")];
          if (typeof value === "string") input.value = value;
        });
      })
      .catch(function () { /* the form then comes back once with its token */ });
  });
})();
