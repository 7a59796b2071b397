'use strict';
// ews-javascript-api's AutodiscoverService.GetUserSettings (MS-OXWSADISC SOAP Autodiscover)
// against the lab. Run by ../test_ews_javascript_api.py and ../test_real_clients_network.py,
// which pass one JSON argument:
//   { url, email, password, dns: "127.0.0.1:PORT", ca: PEM path or null, settings: [names] }
// `url` null: no URL, the library finds one from the address's domain as it does for its users
// (https://<domain>, https://autodiscover.<domain>, the plain-HTTP redirect, the SRV record).
// The host name in `url` is resolved by asking the lab's DNS server (not the system resolver),
// and the server certificate is checked against the lab CA only: TLS verification stays on.
// Prints one JSON line on stdout: the response, or { error } when the client rejected it.
const dns = require('dns');
const fs = require('fs');
const https = require('https');
const { XhrApi } = require('@ewsjs/xhr');
const ews = require('ews-javascript-api');

const args = JSON.parse(process.argv[2]);

// The library's debug log (request with Authorization redacted, the parsed response) goes to
// stderr, which the test shows when the client rejects an answer: ews-javascript-api often
// turns a parse failure into a bare `undefined`, so this log is the only trace of why.
console.log = (...a) => console.error(...a);
ews.EwsLogging.DebugLogEnabled = true;

const resolver = new dns.Resolver({ timeout: 2000, tries: 2 });
resolver.setServers([args.dns]);

// net.connect's lookup hook, answered by the lab's DNS server (A records only).
function labLookup(hostname, options, callback) {
  if (typeof options === 'function') {
    callback = options;
    options = {};
  }
  resolver.resolve4(hostname, (err, addrs) => {
    if (err) {
      callback(err);
      return;
    }
    if (options && options.all) {
      callback(null, addrs.map((a) => ({ address: a, family: 4 })));
      return;
    }
    callback(null, addrs[0], 4);
  });
}

const agent = new https.Agent({
  ca: args.ca ? fs.readFileSync(args.ca) : undefined, // null: Node's built-in roots only
  rejectUnauthorized: true,
  lookup: labLookup,
  keepAlive: false,
});
// ews-javascript-api turns a failed connection into `undefined`; keep the socket's own error
// (e.g. UNABLE_TO_VERIFY_LEAF_SIGNATURE) so a rejection says why.
const socketErrors = [];
const createConnection = agent.createConnection.bind(agent);
agent.createConnection = (...a) => {
  const socket = createConnection(...a);
  socket.on('error', (e) => socketErrors.push(e.code || e.message));
  return socket;
};
ews.ConfigurationApi.ConfigureXHR(
  new XhrApi({ rejectUnauthorized: true, httpsAgent: agent, timeout: 20000 }),
);

function plain(value) {
  if (value === null || value === undefined) {
    return null;
  }
  if (typeof value !== 'object') {
    return value;
  }
  if (value instanceof ews.Uri) {
    return value.ToString();
  }
  try {
    return JSON.parse(JSON.stringify(value));
  } catch (e) {
    return String(value); // circular (a socket, a request): its name is enough
  }
}

async function main() {
  const svc = args.url
    ? new ews.AutodiscoverService(new ews.Uri(args.url), ews.ExchangeVersion.Exchange2013)
    : new ews.AutodiscoverService(ews.ExchangeVersion.Exchange2013);
  svc.Credentials = new ews.WebCredentials(args.email, args.password);
  const names = args.settings.map((n) => {
    const v = ews.UserSettingName[n];
    if (v === undefined) {
      throw new Error(`unknown UserSettingName ${n}`);
    }
    return v;
  });
  const r = await svc.GetUserSettings(args.email, names);
  const settings = {};
  for (const n of args.settings) {
    if (r.Settings.containsKey(ews.UserSettingName[n])) {
      settings[n] = plain(r.Settings.get(ews.UserSettingName[n]));
    }
  }
  const info = svc.ServerInfo;
  return {
    errorCode: ews.AutodiscoverErrorCode[r.ErrorCode],
    errorMessage: r.ErrorMessage || null,
    redirectTarget: r.RedirectTarget,
    smtpAddress: r.SmtpAddress || null,
    settings,
    userSettingErrors: r.UserSettingErrors.map((e) => ({
      name: e.SettingName,
      code: ews.AutodiscoverErrorCode[e.ErrorCode],
      message: e.ErrorMessage,
    })),
    serverInfo: info
      ? {
          majorVersion: info.MajorVersion,
          minorVersion: info.MinorVersion,
          majorBuildNumber: info.MajorBuildNumber,
          minorBuildNumber: info.MinorBuildNumber,
          versionString: info.VersionString,
        }
      : null,
  };
}

function describe(err) {
  if (err instanceof Error) {
    return { type: err.constructor.name, message: err.message, stack: err.stack };
  }
  // An xhr response object (status, response text) or undefined after a failed connection.
  const message = String((err && (err.message || err.statusText)) || err);
  return { type: typeof err, message, status: (err && err.status) || null, raw: plain(err) };
}

main().then(
  (out) => {
    process.stdout.write(JSON.stringify(out) + '\n');
  },
  (err) => {
    process.stdout.write(JSON.stringify({ error: describe(err), socketErrors }) + '\n');
    process.exitCode = 1;
  },
);
