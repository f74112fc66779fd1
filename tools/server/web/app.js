// The VibeVoice streaming page: text in over a WebSocket (/v1/audio/stream), audio and word alignments out,
// played gaplessly with WebAudio while the words being spoken are highlighted.
"use strict";

const $ = (id) => document.getElementById(id);
const ui = {
  text: $("text"), voice: $("voice"), seed: $("seed"), cfg: $("cfg"), steps: $("steps"),
  speak: $("speak"), stop: $("stop"), live: $("live"), download: $("download"), note: $("live-note"),
  spoken: $("spoken"), status: $("status"), error: $("error"), firstAudio: $("first_audio_ms"),
  rtf: $("rtf"), audioS: $("audio_s"), stopReason: $("stop_reason"), samples: $("samples"),
};

// Read by the browser tests; reset (except error and utterances) at each audio.start.
const vvState = (window.vvState = {
  samples: 0, done: false, stopReason: null, highlightEnd: 0, alignments: 0,
  firstAudioMs: null, rtf: null, error: null, utterances: 0,
});

const apiKey = new URLSearchParams(location.search).get("api_key");

let ws = null;  // the open (or opening) WebSocket; one we close is detached at once and ignored
let sentConfig = "";  // the session.config last sent on it (the server keeps it for the next utterances)
// One utterance at a time on the socket: idle → open (text sent) → closing (input.done sent) → idle at
// audio.done; an utterance the model ended before Enter is draining until Enter (its text is dropped).
// Text typed live while closing is held back and starts the next utterance.
let utt = "idle";
let pending = { text: "", done: false };
const cur = { text: "", sampleRate: 24000, chunks: [], lastAlign: null, mark: [0, 0],
              started: false };  // started: audio.start received for this utterance

// ---- status and errors ---------------------------------------------------------------------------------

function setStatus(msg) { ui.status.textContent = msg; }

function showError(msg) {
  vvState.error = vvState.error ? `${vvState.error}; ${msg}` : msg;
  ui.error.textContent = vvState.error;
  ui.error.hidden = false;
}

function clearError() {
  vvState.error = null;
  ui.error.textContent = "";
  ui.error.hidden = true;
}

function refreshButtons() {
  const busy = utt !== "idle";
  ui.speak.disabled = busy || ui.live.checked;
  ui.stop.disabled = !busy;
}

// ---- voices --------------------------------------------------------------------------------------------

async function loadVoices() {
  const headers = apiKey ? { Authorization: `Bearer ${apiKey}` } : {};
  try {
    const res = await fetch("config", { headers });
    if (!res.ok) throw new Error(`GET /config: HTTP ${res.status}`);
    const cfg = await res.json();
    ui.voice.replaceChildren(...cfg.voices.map((name) => new Option(name, name)));
    if (cfg.default_voice) ui.voice.value = cfg.default_voice;
    ui.voice.disabled = false;
    setStatus(`Ready: ${cfg.voices.length} voice${cfg.voices.length === 1 ? "" : "s"}.`);
  } catch (e) {
    ui.voice.replaceChildren(new Option("(unavailable)", ""));
    showError(`could not load the voice list: ${e.message}`);
  }
  refreshButtons();
}

// ---- audio playback ------------------------------------------------------------------------------------

const player = { ctx: null, nextStart: 0, sources: new Set(), marks: [] };

function audioContext() {
  if (player.ctx) return player.ctx;
  try {
    const AC = window.AudioContext || window.webkitAudioContext;
    try {
      player.ctx = new AC({ sampleRate: 24000, latencyHint: "interactive" });
    } catch {
      player.ctx = new AC();  // an AudioBuffer at 24 kHz still plays, resampled
    }
  } catch (e) {
    player.ctx = null;
    console.warn("no WebAudio:", e);
  }
  return player.ctx;
}

// Called from a click: browsers let a page start audio only after a user gesture.
function unlockAudio() {
  const ctx = audioContext();
  if (ctx && ctx.state === "suspended") ctx.resume().catch(() => {});
}

function playing() { return player.ctx !== null && player.ctx.state === "running"; }

function playChunk(samples, align) {
  // Playback may fail (no audio device in a headless browser): never let that break the stream.
  let when = null;
  try {
    const ctx = audioContext();
    if (ctx && samples.length > 0) {
      const buf = ctx.createBuffer(1, samples.length, cur.sampleRate);
      buf.copyToChannel(samples, 0);
      const src = ctx.createBufferSource();
      src.buffer = buf;
      src.connect(ctx.destination);
      when = Math.max(ctx.currentTime, player.nextStart);
      src.start(when);
      player.nextStart = when + buf.duration;
      player.sources.add(src);
      src.onended = () => player.sources.delete(src);
    }
  } catch (e) {
    console.warn("playback failed:", e);
    when = null;
  }
  if (!align) return;
  if (when === null || !playing()) highlight(align);
  else player.marks.push({ when, align });
}

function stopPlayback() {
  for (const src of player.sources) {
    try { src.stop(); } catch { /* already stopped */ }
  }
  player.sources.clear();
  player.marks = [];
  player.nextStart = 0;
}

// Moves the highlight to the alignment whose audio is playing now.
function tick() {
  if (player.marks.length === 0) return;
  const now = playing() ? player.ctx.currentTime : Infinity;
  let latest = null;
  while (player.marks.length > 0 && player.marks[0].when <= now) latest = player.marks.shift().align;
  if (latest) highlight(latest);
}

// ---- spoken text and highlight -------------------------------------------------------------------------

function renderSpoken() {
  const [begin, end] = cur.mark;
  const cps = Array.from(cur.text);  // alignment offsets are code points
  const b = Math.min(Math.max(begin, 0), cps.length);
  const e = Math.min(Math.max(end, b), cps.length);
  const mark = document.createElement("mark");
  mark.textContent = cps.slice(b, e).join("");
  ui.spoken.replaceChildren(cps.slice(0, b).join(""), ...(e > b ? [mark] : []), cps.slice(e).join(""));
}

function highlight(align) {
  cur.mark = [align.text_begin, align.text_end];
  renderSpoken();
  vvState.highlightEnd = Math.max(vvState.highlightEnd, align.text_end);
}

// ---- WAV download --------------------------------------------------------------------------------------

function wavBlob(chunks, sampleRate) {
  const dataLen = chunks.reduce((n, c) => n + c.byteLength, 0);
  const header = new DataView(new ArrayBuffer(44));
  const str = (off, s) => { for (let i = 0; i < s.length; i++) header.setUint8(off + i, s.charCodeAt(i)); };
  str(0, "RIFF"); header.setUint32(4, 36 + dataLen, true); str(8, "WAVE");
  str(12, "fmt "); header.setUint32(16, 16, true); header.setUint16(20, 1, true); header.setUint16(22, 1, true);
  header.setUint32(24, sampleRate, true); header.setUint32(28, sampleRate * 2, true);
  header.setUint16(32, 2, true); header.setUint16(34, 16, true);
  str(36, "data"); header.setUint32(40, dataLen, true);
  return new Blob([header.buffer, ...chunks], { type: "audio/wav" });
}

function offerDownload() {
  if (ui.download.href.startsWith("blob:")) URL.revokeObjectURL(ui.download.href);
  ui.download.href = URL.createObjectURL(wavBlob(cur.chunks, cur.sampleRate));
  ui.download.hidden = false;
}

// ---- server messages -----------------------------------------------------------------------------------

// One chunk of pcm16 (the format the page asks for): little-endian int16 mono.
function onAudio(buf) {
  const view = new DataView(buf);
  const f = new Float32Array(Math.floor(buf.byteLength / 2));
  for (let i = 0; i < f.length; i++) f[i] = view.getInt16(2 * i, true) / 32768;
  cur.chunks.push(buf.slice(0, 2 * f.length));
  vvState.samples += f.length;
  ui.samples.textContent = String(vvState.samples);
  const align = cur.lastAlign;
  cur.lastAlign = null;
  playChunk(f, align);
}

const handlers = {
  "audio.start"(m) {
    Object.assign(vvState, { samples: 0, done: false, highlightEnd: 0, alignments: 0,
                             stopReason: null, firstAudioMs: null, rtf: null });
    if (m.format !== "pcm16") showError(`unexpected audio format ${m.format}`);
    cur.sampleRate = m.sample_rate || 24000;
    cur.chunks = [];
    cur.lastAlign = null;
    cur.started = true;
    if (utt === "idle") {
      // Live text sent just before the server ended the previous utterance (EOS) started this one.
      utt = "open";
      cur.text = "";
      cur.mark = [0, 0];
      setLiveNote("The model ended the utterance before Enter; the text typed since began a new one.");
      refreshButtons();
    }
    player.marks = [];
    ui.samples.textContent = "0";
    ui.download.hidden = true;
    setStatus(`Speaking (voice ${m.voice}, ${cur.sampleRate} Hz)…`);
  },
  alignment(m) { vvState.alignments += 1; cur.lastAlign = m; },  // for the binary frame that follows
  underrun(m) { setStatus(`Waiting for text (frame ${m.frame})…`); },
  "audio.done"(m) {
    Object.assign(vvState, { done: true, stopReason: m.stop_reason, firstAudioMs: m.first_audio_ms,
                             rtf: m.rtf });
    vvState.utterances += 1;
    const shown = (x, digits) => (x == null || x < 0 ? "–" : Number(x).toFixed(digits));  // -1: no audio
    ui.firstAudio.textContent = shown(m.first_audio_ms, 0);
    ui.rtf.textContent = shown(m.rtf, 3);
    ui.audioS.textContent = m.audio_s == null ? "–" : Number(m.audio_s).toFixed(2);
    ui.stopReason.textContent = m.stop_reason;
    setStatus(`Done: ${m.frames} frames, ${Number(m.audio_s).toFixed(2)} s of audio (${m.stop_reason}).`);
    offerDownload();
    if (utt === "open") {
      // The server drops the rest of this utterance's text until its input.done: so does the page.
      setLiveNote(`The model ended the utterance (${m.stop_reason}) before Enter; press Enter to start a new one.`);
      utt = "draining";
    } else {
      utt = "idle";
    }
    cur.started = false;
    if (pending.text) {
      const { text, done } = pending;
      pending = { text: "", done: false };
      sendText(text);
      if (done) sendDone();
    } else if (!ui.live.checked) {
      closeSocket();
    }
    refreshButtons();
  },
  error(m) {
    showError(`${m.code}: ${m.message}`);
    // A failed generation, or an input error of a started utterance, still ends with audio.done. Any other
    // error (e.g. rejected settings: the utterance would run with the previous ones) ends the session here.
    const ends = m.code === "generation" || (m.code === "input" && cur.started);
    if (!ends && utt !== "idle") abandon("Stopped after the error.");
  },
};

function onMessage(ev) {
  if (typeof ev.data !== "string") return onAudio(ev.data);
  let m;
  try { m = JSON.parse(ev.data); } catch { return showError(`unreadable message from the server: ${ev.data}`); }
  const h = handlers[m.type];
  if (h) h(m);
  else console.warn("unknown message", m);
}

// ---- the socket ----------------------------------------------------------------------------------------

function streamUrl() {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const query = apiKey ? `?api_key=${encodeURIComponent(apiKey)}` : "";
  return `${proto}//${location.host}/v1/audio/stream${query}`;
}

function openSocket() {
  if (ws) return;
  sentConfig = "";
  const sock = new WebSocket(streamUrl());
  sock.binaryType = "arraybuffer";
  sock.onmessage = (ev) => { if (ws === sock) onMessage(ev); };
  sock.onerror = () => console.warn("WebSocket error");
  sock.onclose = (ev) => {
    if (ws !== sock) return;
    ws = null;
    const expected = utt === "idle" && (ev.code === 1000 || ev.code === 1001);  // e.g. idle timeout
    if (!expected) showError(`connection closed: ${ev.code}${ev.reason ? ` "${ev.reason}"` : ""}`);
    setStatus("Disconnected.");
    utt = "idle";
    cur.started = false;
    pending = { text: "", done: false };
    if (ui.live.checked) { ui.live.checked = false; setLiveNote(""); }
    refreshButtons();
  };
  ws = sock;
  setStatus("Connecting…");
}

function closeSocket() {
  if (!ws) return;
  const sock = ws;
  ws = null;
  sock.close(1000);
}

// Gives up the current utterance: closing the socket cancels it on the server.
function abandon(status) {
  utt = "idle";
  pending = { text: "", done: false };
  closeSocket();
  if (ui.live.checked) ui.live.checked = false;
  setLiveNote("");
  setStatus(status);
  refreshButtons();
}

// Sends now, or as soon as the socket is open (messages keep their order).
function send(obj) {
  const sock = ws;
  if (!sock) return;
  const data = JSON.stringify(obj);
  if (sock.readyState === WebSocket.OPEN) sock.send(data);
  else if (sock.readyState === WebSocket.CONNECTING) sock.addEventListener("open", () => sock.send(data));
}

function sessionConfig() {
  const cfg = { type: "session.config", format: "pcm16" };
  if (ui.voice.value) cfg.voice = ui.voice.value;
  const num = (el) => (el.value.trim() === "" ? null : Number(el.value));
  const seed = num(ui.seed), cfgScale = num(ui.cfg), steps = num(ui.steps);
  if (seed !== null) cfg.seed = seed;
  if (cfgScale !== null) cfg.cfg_scale = cfgScale;
  if (steps !== null) cfg.steps = steps;
  return cfg;
}

// Text of the current utterance (or, while it is closing, of the next one).
function sendText(text) {
  if (!text) return;
  if (utt === "draining") return;  // still the ended utterance's text (see audio.done)
  if (utt === "closing") { pending.text += text; return; }
  openSocket();
  if (utt === "idle") {
    audioContext();
    const config = JSON.stringify(sessionConfig());
    if (config !== sentConfig) send(JSON.parse(config));  // only when changed: it is refused mid-utterance
    sentConfig = config;
    cur.text = "";
    cur.mark = [0, 0];
    utt = "open";
  }
  cur.text += text;
  send({ type: "input.text", text });
  renderSpoken();
  refreshButtons();
}

function sendDone() {
  if (utt === "draining") {  // ends the ended utterance's text; the next text starts a new one
    send({ type: "input.done" });
    utt = "idle";
    refreshButtons();
    return;
  }
  if (utt === "closing") { if (pending.text) pending.done = true; return; }
  if (utt !== "open") return;
  send({ type: "input.done" });
  utt = "closing";
  setStatus("Text complete; generating…");
  refreshButtons();
}

// ---- buttons and live typing ---------------------------------------------------------------------------

ui.speak.addEventListener("click", () => {
  const text = ui.text.value;
  if (!text.trim()) { setStatus("Nothing to speak."); return; }
  clearError();
  unlockAudio();
  sendText(text);
  sendDone();
});

ui.stop.addEventListener("click", () => {
  stopPlayback();
  pending = { text: "", done: false };
  if (utt === "draining") {
    sendDone();  // the model already ended it: only its text is closed
  } else if (ws && utt !== "idle") {
    send({ type: "cancel" });
    utt = "closing";  // typed text waits for audio.done ("cancelled") and starts the next utterance
    setStatus("Cancelling…");
  }
  refreshButtons();
});

let liveSent = "";  // the textarea content already consumed by live typing

function setLiveNote(msg) { ui.note.textContent = msg; }

ui.live.addEventListener("change", () => {
  if (ui.live.checked) {
    clearError();
    unlockAudio();
    liveSent = ui.text.value;
    openSocket();
    setLiveNote("Live typing: appended text is spoken as you type; Enter ends the utterance.");
    ui.text.focus();
  } else {
    setLiveNote("");
    if (utt === "open") sendDone();
    else if (utt === "idle") closeSocket();
  }
  refreshButtons();
});

function onLiveInput() {
  if (!ui.live.checked) return;
  const value = ui.text.value;
  if (value.startsWith(liveSent)) {
    const added = value.slice(liveSent.length);
    liveSent = value;
    sendText(added);
  } else {
    // An edit before the end: what was sent cannot be taken back; continue from here.
    liveSent = value;
    setLiveNote("Only appended text is sent: earlier edits are not spoken. Turn live typing off and on to restart.");
  }
}

ui.text.addEventListener("input", (ev) => { if (!ev.isComposing) onLiveInput(); });
ui.text.addEventListener("compositionend", onLiveInput);
ui.text.addEventListener("keydown", (ev) => {
  if (!ui.live.checked || ev.key !== "Enter" || ev.isComposing) return;
  ev.preventDefault();
  sendDone();
});

setInterval(tick, 30);
loadVoices();
