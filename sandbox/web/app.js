// Sandbox web chat page: plain JS, no build step. Talks to /sandbox/api/*.
'use strict';
const $ = (sel) => document.querySelector(sel);
const el = (tag, attrs = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null) e.setAttribute(k, v);
  }
  for (const k of kids) if (k !== null && k !== undefined) e.append(k);
  return e;
};

async function api(path, body) {
  const opts = body === undefined ? {} : (body instanceof FormData
    ? { method: 'POST', body }
    : { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const r = await fetch('/sandbox/api/' + path, opts);
  const j = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(j.error || r.statusText);
  return j;
}

let state = null;
let toastTimer = null;
function toast(text, alertStyle) {
  const t = $('#toast');
  t.textContent = text;
  t.className = 'toast show' + (alertStyle ? ' alert' : '');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.className = 'toast'; }, alertStyle ? 6000 : 2500);
}

// A chat view polls /sandbox/api/chat and renders into a message list.
class ChatView {
  constructor(listSel, opts) {
    this.list = $(listSel);
    this.opts = opts;
    this.chat = null;
    this.seq = 0;
    this.gen = 0;
    this.answerSeq = -1;
    this.data = null;
  }
  open(chatID) {
    this.chat = chatID;
    this.seq = 0;
    this.answerSeq = -1;
    this.list.innerHTML = '';
    const gen = ++this.gen;
    this.loop(gen);
  }
  async loop(gen) {
    while (gen === this.gen) {
      try {
        const d = await api(`chat?chat=${this.chat}&after=${this.seq}`);
        if (gen !== this.gen) return;
        this.seq = d.seq;
        this.data = d;
        this.render();
      } catch (e) {
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }
  refresh() { if (this.data) this.render(); }
  render() {
    const d = this.data;
    const atBottom = this.list.scrollTop + this.list.clientHeight >= this.list.scrollHeight - 40;
    this.list.innerHTML = '';
    const filter = this.opts.filter || (() => true);
    for (const m of d.messages) {
      if (!filter(m)) continue;
      this.list.append(this.renderMessage(m));
    }
    if (atBottom || this.seqRendered === undefined) this.list.scrollTop = this.list.scrollHeight;
    this.seqRendered = d.seq;
    for (const a of d.answers) {
      if (a.seq > this.answerSeq && this.answerSeq >= 0 && a.text) toast(a.text, a.show_alert);
    }
    if (d.answers.length) this.answerSeq = d.answers[d.answers.length - 1].seq;
    else this.answerSeq = Math.max(this.answerSeq, 0);
    if (this.opts.after) this.opts.after(d);
  }
  renderMessage(m) {
    if (m.service) {
      return el('div', { class: 'msg service', 'data-testid': 'message', 'data-message-id': m.id }, m.service);
    }
    const mine = this.opts.isMine(m);
    const box = el('div', {
      class: 'msg ' + (m.from_bot ? 'bot' : 'me'), 'data-testid': 'message',
      'data-message-id': m.id, 'data-from-bot': m.from_bot ? 'true' : 'false',
    });
    if (!mine || this.opts.showNames) box.append(el('div', { class: 'who' }, m.from_name + (m.thread_id ? ` · #${m.thread_id}` : '')));
    if (m.photo && m.photo.length) {
      const big = m.photo[m.photo.length - 1];
      box.append(el('img', { src: '/sandbox/api/file?id=' + encodeURIComponent(big.file_id), alt: big.name || 'photo', 'data-testid': 'photo' }));
    }
    if (m.document) {
      box.append(el('a', {
        href: '/sandbox/api/file?id=' + encodeURIComponent(m.document.file_id), download: m.document.name,
        'data-testid': 'document-link',
      }, `📄 ${m.document.name} (${Math.ceil(m.document.size / 1024)} KB)`));
    }
    if (m.contact) box.append(el('div', { class: 'text' }, `📱 ${m.contact.first_name}: ${m.contact.phone}`));
    const body = m.text || m.caption;
    if (body) box.append(el('div', { class: 'text', 'data-testid': 'message-text' }, body));
    if (m.buttons && m.buttons.length) {
      const kb = el('div', { class: 'kb', 'data-testid': 'inline-keyboard' });
      for (const row of m.buttons) {
        const r = el('div', { class: 'row' });
        for (const b of row) {
          if (b.url) {
            r.append(el('a', { href: b.url, target: '_blank', rel: 'noopener', 'data-testid': 'inline-button' }, b.text + ' ↗'));
          } else if (b.copy_text) {
            r.append(el('button', {
              'data-testid': 'inline-button', type: 'button',
              onclick: () => { navigator.clipboard && navigator.clipboard.writeText(b.copy_text); toast('Đã sao chép: ' + b.copy_text); },
            }, b.text));
          } else {
            r.append(el('button', {
              'data-testid': 'inline-button', 'data-data': b.data, type: 'button',
              onclick: () => this.opts.press(m, b).catch((e) => toast(e.message, true)),
            }, b.text));
          }
        }
        kb.append(r);
      }
      box.append(kb);
    }
    const time = new Date(m.date).toLocaleTimeString('vi-VN', { hour: '2-digit', minute: '2-digit' });
    box.append(el('div', { class: 'meta' }, (m.edited ? 'đã sửa · ' : '') + time));
    return box;
  }
}

// ---- customer chat ----
let currentUser = null;
const userView = new ChatView('#messages', {
  isMine: (m) => !m.from_bot,
  press: (m, b) => api('press', { chat: currentUser.id, from: currentUser.id, message_id: m.id, data: b.data }),
  after: (d) => {
    $('#typing').textContent = d.action ? 'đang ' + (d.action === 'typing' ? 'nhập…' : 'gửi tệp…') : '';
    $('#block-toggle').checked = d.blocked;
    renderReplyKeyboard(d.keyboard);
  },
});

function renderReplyKeyboard(rows) {
  const box = $('#reply-keyboard');
  box.innerHTML = '';
  for (const row of rows || []) {
    const r = el('div', { class: 'row' });
    for (const b of row) {
      r.append(el('button', {
        type: 'button', 'data-testid': b.request_contact ? 'share-contact' : 'reply-button',
        onclick: () => (b.request_contact
          ? api('contact', { chat: currentUser.id })
          : api('send', { chat: currentUser.id, text: b.text })).catch((e) => toast(e.message, true)),
      }, (b.request_contact ? '📱 ' : '') + b.text));
    }
    box.append(r);
  }
}

function pickUser(u) {
  currentUser = u;
  document.querySelectorAll('.user-item').forEach((b) => b.classList.toggle('active', b.dataset.userId === String(u.id)));
  $('#chat-title').textContent = `${u.label || u.first_name} · id ${u.id}` + (u.phone ? ` · ${u.phone}` : '');
  for (const id of ['#text-input', '#send-btn', '#upload-btn']) $(id).disabled = false;
  userView.open(u.id);
  $('#text-input').focus();
}

function renderUsers() {
  const box = $('#users');
  box.innerHTML = '';
  for (const u of state.users) {
    box.append(el('button', {
      class: 'user-item', id: 'user-' + u.id, 'data-testid': 'user-pick', 'data-user-id': u.id,
      onclick: () => pickUser(u),
    }, u.label || u.first_name, el('small', {}, (u.phone || 'không có SĐT') + ' · ' + (u.language_code || ''))));
  }
  if (!state.users.length) box.append(el('p', {}, 'Chưa cấu hình khách hàng demo — nhập id bên dưới.'));
}

$('#custom-user-btn').addEventListener('click', () => {
  const id = parseInt($('#custom-user-id').value, 10);
  if (id > 0) pickUser(state.users.find((u) => u.id === id) || { id, first_name: 'User' + id, label: 'User ' + id });
});

$('#send-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const input = $('#text-input');
  const text = input.value;
  if (!text.trim() || !currentUser) return;
  input.value = '';
  try { await api('send', { chat: currentUser.id, text }); } catch (e) { toast(e.message, true); input.value = text; }
});

$('#upload-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const file = $('#file-input').files[0];
  if (!file || !currentUser) { toast('Chọn tệp trước', true); return; }
  const fd = new FormData();
  fd.append('chat', currentUser.id);
  fd.append('kind', $('#upload-kind').value);
  fd.append('caption', $('#caption-input').value);
  fd.append('file', file);
  try { await api('upload', fd); $('#file-input').value = ''; $('#caption-input').value = ''; } catch (e) { toast(e.message, true); }
});

$('#block-toggle').addEventListener('change', (ev) => {
  if (!currentUser) return;
  api('block', { chat: currentUser.id, blocked: ev.target.checked }).catch((e) => toast(e.message, true));
});

// ---- staff group ----
let staffThread = null; // null = all topics
const staffView = new ChatView('#staff-messages', {
  showNames: true,
  isMine: (m) => !m.from_bot && String(m.from_id) === $('#staff-user').value,
  filter: (m) => staffThread === null || (m.thread_id || 0) === staffThread,
  press: (m, b) => api('press', { chat: state.staff_group.id, from: parseInt($('#staff-user').value, 10), message_id: m.id, data: b.data }),
  after: (d) => renderTopics(d.topics),
});

function renderTopics(topics) {
  const box = $('#topics');
  box.innerHTML = '';
  const item = (thread, name, sub) => el('button', {
    class: 'topic-item' + (staffThread === thread ? ' active' : ''), 'data-testid': 'topic', 'data-thread-id': thread === null ? '' : thread,
    onclick: () => { staffThread = thread; staffView.refresh(); },
  }, name, sub ? el('small', {}, sub) : null);
  box.append(item(null, 'Tất cả (all)'), item(0, 'Chung (General)'));
  for (const t of topics) box.append(item(t.thread_id, t.name, '#' + t.thread_id + (t.closed ? ' · đã đóng' : '')));
}

$('#staff-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const input = $('#staff-text');
  const text = input.value;
  if (!text.trim() || !state.staff_group) return;
  input.value = '';
  try {
    await api('send', { chat: state.staff_group.id, from: parseInt($('#staff-user').value, 10), text, thread: staffThread || 0 });
  } catch (e) { toast(e.message, true); input.value = text; }
});

function initStaff() {
  const sel = $('#staff-user');
  for (const u of state.staff_users) sel.append(el('option', { value: u.id }, `${u.label || u.first_name} (${u.id})`));
  if (!state.staff_group) {
    $('#staff-title').textContent = 'Chưa cấu hình nhóm hỗ trợ (Config.StaffGroupID)';
    $('#staff-send-btn').disabled = true;
    return;
  }
  $('#staff-title').textContent = `${state.staff_group.title} · id ${state.staff_group.id}`;
  if (!state.staff_users.length) sel.append(el('option', { value: 1 }, 'Staff (1)'));
  staffView.open(state.staff_group.id);
}

// ---- mails ----
async function loadMails() {
  const box = $('#mails');
  if (!state.mailbox) { box.textContent = 'Chưa bật hộp thư (Config.Mailbox).'; return; }
  const mails = await api('mails');
  box.innerHTML = '';
  if (!mails.length) box.textContent = 'Chưa có thư nào.';
  for (const m of mails.slice().reverse()) {
    box.append(el('div', { class: 'mail', 'data-testid': 'mail' },
      el('strong', { 'data-testid': 'mail-subject' }, m.subject || '(không tiêu đề)'),
      el('div', {}, `${m.from} → ${m.to.join(', ')} · ${new Date(m.received).toLocaleString('vi-VN')}`),
      el('pre', {}, m.body),
      m.attachments && m.attachments.length ? el('div', {}, '📎 ' + m.attachments.map((a) => `${a.name} (${a.size} B)`).join(', ')) : null));
  }
}

// ---- payment ----
$('#pay-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const out = $('#pay-result');
  out.textContent = 'Đang gửi…';
  try {
    const r = await api('pay', {
      order_ref: $('#pay-ref').value.trim(), amount: parseInt($('#pay-amount').value, 10),
      payer_name: $('#pay-payer').value, description: $('#pay-desc').value,
    });
    out.textContent = `HTTP ${r.status}\n${r.body}`;
  } catch (e) { out.textContent = 'Lỗi: ' + e.message; }
});

// ---- tabs ----
let mailTimer = null;
document.querySelectorAll('nav button').forEach((b) => b.addEventListener('click', () => {
  document.querySelectorAll('nav button').forEach((x) => x.classList.toggle('active', x === b));
  document.querySelectorAll('.panel').forEach((p) => p.classList.toggle('active', p.id === 'panel-' + b.dataset.tab));
  clearInterval(mailTimer);
  if (b.dataset.tab === 'mail') { loadMails(); mailTimer = setInterval(loadMails, 2000); }
}));

(async function init() {
  state = await api('state');
  $('#bot-name').textContent = `🤖 ${state.bot.first_name} (@${state.bot.username})`;
  if (!state.payment) $('#pay-result').textContent = 'Chưa cấu hình PaymentCallbackURL — biểu mẫu sẽ báo lỗi.';
  renderUsers();
  initStaff();
})();
