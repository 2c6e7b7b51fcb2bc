// The behaviour suite, run against every adapter this runtime can host.

import { conformance } from "./_conformance.ts";
import { hosts } from "./_hosts.ts";

for (const host of hosts()) conformance(host);
