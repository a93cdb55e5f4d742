// A client of the event stream for the system tests and the benchmark:
//   node --experimental-websocket ws_client.mjs URL MS [COUNT]
// connects to URL (ws://host:port/api/v1/events?token=...&last_id=N), prints
// every message it receives as one line, and exits after MS milliseconds or
// once COUNT messages other than "hello" have arrived. Exit status 0 when it
// connected, 2 when the server refused or closed it first (the close code is
// printed as {"closed": code}).
const [url, ms, count] = process.argv.slice(2);
const want = count ? Number(count) : Infinity;
let got = 0;
let opened = false;
const ws = new WebSocket(url);
const done = (code) => {
  clearTimeout(timer);
  try { ws.close(); } catch (e) { /* closing anyway */ }
  process.exit(code);
};
const timer = setTimeout(() => done(opened ? 0 : 2), Number(ms));
ws.onopen = () => { opened = true; };
ws.onmessage = (m) => {
  console.log(m.data);
  if (!String(m.data).includes('"type":"hello"') && ++got >= want) done(0);
};
ws.onclose = (e) => {
  console.log(JSON.stringify({ closed: e.code }));
  done(opened ? 0 : 2);
};
ws.onerror = () => { /* onclose follows */ };
