/** Redis key names of the quota store (see quota.scripts.ts for the data model). */
export interface BudgetKeys {
  spent: string;
  reserved: string;
  holds: string;
  /** Spend settled while the counters were not rebuilt (see quota.scripts.ts). */
  late: string;
}

export class QuotaKeys {
  constructor(private readonly prefix: string) {}

  budget(projectId: string, period: 'd' | 'm', label: string): BudgetKeys {
    const base = `${this.project(projectId)}:${period}:${label}`;
    return { spent: `${base}:spent`, reserved: `${base}:reserved`, holds: `${base}:holds`, late: `${base}:late` };
  }

  /** Present once the project's spent counters hold its spend (rebuilt from the ledger if need be). */
  ready(projectId: string): string {
    return `${this.project(projectId)}:ready`;
  }

  /** Held by the one instance rebuilding the project's counters. */
  rebuildLock(projectId: string): string {
    return `${this.project(projectId)}:rebuild`;
  }

  rate(projectId: string, apiKeyId: string, minute: number): { requests: string; tokens: string } {
    const base = `${this.project(projectId)}:k:${apiKeyId}`;
    return { requests: `${base}:rpm:${minute}`, tokens: `${base}:tpm:${minute}` };
  }

  /** The counters of `rate` whatever the minute (their families, for local shares). */
  rateFamilies(projectId: string, apiKeyId: string): { requests: string; tokens: string } {
    const base = `${this.project(projectId)}:k:${apiKeyId}`;
    return { requests: `${base}:rpm`, tokens: `${base}:tpm` };
  }

  /** An instance's lease of the project's budgets: its amount and last write (see LEASE_SCRIPT). */
  lease(projectId: string, leaseId: string): string {
    return `${this.project(projectId)}:l:${leaseId}`;
  }

  reservation(projectId: string, id: string): string {
    return `${this.project(projectId)}:r:${id}`;
  }

  /** The hash tag keeps every key of a project in one cluster slot, as the scripts need. */
  private project(projectId: string): string {
    return `${this.prefix}quota:{${projectId}}`;
  }
}
