/**
 * The PostgreSQL archive of finished jobs: the archiver, the archive itself and its schema.
 * @module
 */
export { Archiver, type ArchiverOptions, type ArchiverStats, type ArchiveWriter } from './archiver.js';
export { PgArchive, type ArchiveStats, type PgArchiveOptions } from './pg-archive.js';
export { MIGRATIONS, SCHEMA_VERSION, type Migration } from './schema.js';
