import type { MigrationInterface } from 'typeorm';
import { AuthFoundation1764000000000 } from './1764000000000-AuthFoundation';

type MigrationClass = new () => MigrationInterface;

/** Every migration, oldest first. A new migration is added here by hand, after review. */
export const MIGRATIONS: MigrationClass[] = [AuthFoundation1764000000000];
