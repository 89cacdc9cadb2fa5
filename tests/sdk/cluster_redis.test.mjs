// Three nodes on one PostgreSQL database, messages by Redis publish/subscribe
// (services/cluster_suite.mjs, redis-server from Debian's package).
import { clusterSuite } from './services/cluster_suite.mjs';

clusterSuite('redis');
