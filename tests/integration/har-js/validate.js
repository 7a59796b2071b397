// Validates a HAR file with har-validator (the HAR 1.2 JSON schema of har-schema, checked by
// ajv) and prints one JSON line: {"valid":true,"entries":N} or {"valid":false,"errors":[...]}.
'use strict';
const fs = require('fs');
const validate = require('har-validator');

const har = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
validate.har(har).then(() => {
  console.log(JSON.stringify({valid: true, entries: har.log.entries.length}));
}).catch((e) => {
  console.log(JSON.stringify({valid: false, errors: e.errors || [String(e)]}));
  process.exit(1);
});
