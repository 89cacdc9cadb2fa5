// Three nodes on one PostgreSQL database, messages by LISTEN/NOTIFY (services/cluster_suite.mjs).
import { clusterSuite } from './services/cluster_suite.mjs';

clusterSuite('postgres');
