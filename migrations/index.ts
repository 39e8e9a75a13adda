import type { MigrationInterface } from 'typeorm';
import { AuthFoundation1764000000000 } from './1764000000000-AuthFoundation';
import { UsageLedger1764400000000 } from './1764400000000-UsageLedger';
import { ProjectQuotas1764500000000 } from './1764500000000-ProjectQuotas';
import { MlRegistry1764600000000 } from './1764600000000-MlRegistry';
import { LedgerTokenDetails1764700000000 } from './1764700000000-LedgerTokenDetails';

type MigrationClass = new () => MigrationInterface;

/** Every migration, oldest first. A new migration is added here by hand, after review. */
export const MIGRATIONS: MigrationClass[] = [
  AuthFoundation1764000000000,
  UsageLedger1764400000000,
  ProjectQuotas1764500000000,
  MlRegistry1764600000000,
  LedgerTokenDetails1764700000000,
];
