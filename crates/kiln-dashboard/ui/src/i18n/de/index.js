// One catalog per area; each file is owned by the area's code.
import core from './core.js';
import collections from './collections.js';
import records from './records.js';
import auth from './auth.js';
import settings from './settings.js';
import logs from './logs.js';
import jobs from './jobs.js';
import rules from './rules.js';

export default { ...core, ...collections, ...records, ...auth, ...settings, ...logs, ...jobs, ...rules };
