// rota's live pages (Now, an incident): while the tab is visible, the page
// is fetched again every few seconds and its content replaced when it
// changed, unless someone is filling in a form on it. Without this script
// the pages work the same, reloaded by hand. First-party, no framework;
// the page's Content-Security-Policy allows it by its nonce.
(function () {
  'use strict';
  var main = document.getElementById('main');
  if (!main || !main.dataset.live || !window.fetch || !window.DOMParser) {
    return;
  }
  var every = parseInt(main.dataset.live, 10) || 3000;
  var status = document.getElementById('live-status');
  var last = main.innerHTML;
  var busy = false;

  // editing reports whether a form on the page holds what someone is
  // entering: replacing it would lose their input.
  function editing() {
    var a = document.activeElement;
    if (a && main.contains(a) && /^(INPUT|TEXTAREA|SELECT)$/.test(a.tagName) && a.type !== 'submit' && a.type !== 'button') {
      return true;
    }
    var fields = main.querySelectorAll('input, textarea, select');
    for (var i = 0; i < fields.length; i++) {
      var f = fields[i];
      if (f.type === 'hidden' || f.type === 'submit' || f.type === 'button') {
        continue;
      }
      if (f.type === 'checkbox' || f.type === 'radio') {
        if (f.checked !== f.defaultChecked) {
          return true;
        }
      } else if (f.tagName === 'SELECT') {
        for (var j = 0; j < f.options.length; j++) {
          if (f.options[j].selected !== f.options[j].defaultSelected) {
            return true;
          }
        }
      } else if (f.value !== f.defaultValue) {
        return true;
      }
    }
    return false;
  }

  function tick() {
    if (busy || document.hidden || editing()) {
      return;
    }
    busy = true;
    fetch(window.location.href, { credentials: 'same-origin', cache: 'no-store', headers: { 'X-Rota-Live': '1' } })
      .then(function (res) {
        if (!res.ok || res.redirected) {
          throw new Error('status ' + res.status);
        }
        return res.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, 'text/html').getElementById('main');
        if (!fresh || fresh.innerHTML === last || editing()) {
          return;
        }
        last = fresh.innerHTML;
        main.innerHTML = last;
        if (status) {
          status.textContent = 'Updated at ' + new Date().toLocaleTimeString() + '.';
        }
      })
      .catch(function () {
        if (status) {
          status.textContent = 'Not updated: rota did not answer. Reload the page to try again.';
        }
      })
      .then(function () {
        busy = false;
      });
  }

  window.setInterval(tick, every);
})();
