// The hall's event stream, WS /api/v1/events?since=<seq>, as the pages follow it: one copy for the calling
// screens, the window terminal and the dashboard. A classic script, loaded before the page's own script: it
// defines the global class EventSocket and nothing else. No framework, no build.
//
//   const socket = new EventSocket({ onEvent, onResync, onState, onReconnected });
//   socket.open(sinceSeq)    follow the stream after sinceSeq (a snapshot's latest_seq; omitted: lastSeq),
//                            replacing the current socket if there is one
//   socket.close()           stop following: no more callbacks and no reconnecting until open() again
//   socket.lastSeq           the last seq seen; read/write (a page may move it, e.g. to a snapshot's)
//   socket.active            a socket is current (connecting or open); false while waiting to reconnect,
//                            after close() and before open()
//   await socket.backOff()   for the page's own retries (its snapshot could not be read): reports
//                            "reconnecting" and waits the next back-off delay, the one the socket uses too
//
// The callbacks, each optional:
//   onEvent(e)        an event after lastSeq, in seq order; lastSeq is e.seq already. Heartbeats (seq null)
//                     and events at or before lastSeq are not passed on.
//   onResync(e)       stream.reset (seq null; data.latest_seq is the end of the log the server has now) or
//                     day.rolled_over: what the page shows is stale. lastSeq is left alone and the socket
//                     keeps going; the page decides (close() and open() from a fresh snapshot, or move on).
//   onState(state)    "connected" when a socket opens, "reconnecting" when it is lost or on backOff().
//                     ("connecting", before the page's first snapshot, is the page's own to show.)
//   onReconnected()   a socket opened after one was lost: the page reads again what the replayed events
//                     do not tell it (the events missed meanwhile are replayed from lastSeq).
//
// A socket is lost when it closes, fails or stays silent for 25 s (the server sends a heartbeat every
// 10 s); the next one follows after 0.5 s, doubling to 5 s, from lastSeq, so no event is missed across a
// server restart. Messages from a socket that is no longer current are ignored.

class EventSocket {
  static DEAD_MS = 25000;
  static BACKOFF_START_MS = 500;
  static BACKOFF_MAX_MS = 5000;
  static RESYNC_TYPES = new Set(["day.rolled_over", "stream.reset"]);

  constructor({ onEvent, onResync, onState, onReconnected } = {}) {
    const none = () => {};
    this.onEvent = onEvent || none;
    this.onResync = onResync || none;
    this.onState = onState || none;
    this.onReconnected = onReconnected || none;
    this.lastSeq = 0;
    this.ws = null;
    this.backoff = 0;           // the last delay waited; 0 once a socket opened
    this.watchdog = null;
    this.retry = null;          // the timer of the next attempt after a loss
    this.lost = false;          // a socket was lost since the last one opened
  }

  get active() {
    return this.ws !== null;
  }

  open(sinceSeq) {
    if (sinceSeq !== undefined) this.lastSeq = sinceSeq;
    this.close();
    this.connect();
  }

  close() {
    clearTimeout(this.retry);
    this.retry = null;
    this.detach();
  }

  async backOff() {
    this.onState("reconnecting");
    const ms = this.nextBackoff();
    await new Promise((resolve) => setTimeout(resolve, ms));
  }

  nextBackoff() {
    this.backoff = this.backoff ? Math.min(this.backoff * 2, EventSocket.BACKOFF_MAX_MS) : EventSocket.BACKOFF_START_MS;
    return this.backoff;
  }

  connect() {
    this.retry = null;
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${proto}//${location.host}/api/v1/events?since=${this.lastSeq}`);
    this.ws = ws;
    this.arm();
    ws.onopen = () => {
      if (ws !== this.ws) return;
      const again = this.lost;
      this.lost = false;
      this.backoff = 0;
      this.onState("connected");
      if (again) this.onReconnected();
    };
    ws.onmessage = (m) => {
      if (ws !== this.ws) return;
      this.arm();
      this.receive(JSON.parse(m.data));
    };
    ws.onclose = ws.onerror = () => {
      if (ws === this.ws) this.drop();
    };
  }

  arm() {
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => this.drop(), EventSocket.DEAD_MS);
  }

  detach() {
    clearTimeout(this.watchdog);
    const ws = this.ws;
    this.ws = null;
    if (ws) try { ws.close(); } catch { /* already closed */ }
  }

  drop() {          // the socket closed, failed or went silent: try again from lastSeq
    this.detach();
    this.lost = true;
    this.onState("reconnecting");
    this.retry = setTimeout(() => this.connect(), this.nextBackoff());
  }

  receive(e) {
    if (EventSocket.RESYNC_TYPES.has(e.type)) { this.onResync(e); return; }
    if (e.seq === null || e.seq === undefined || e.seq <= this.lastSeq) return;
    this.lastSeq = e.seq;
    this.onEvent(e);
  }
}
