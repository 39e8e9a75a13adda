import { randomBytes } from 'node:crypto';
import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { QueryFailedError, Repository } from 'typeorm';
import type { Role } from '../common/auth/principal';
import { AppError } from '../common/errors/app-error';
import { AppConfig } from '../config/app-config';
import { UserEntity } from './entities';
import { hashPassword } from './passwords';

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function isUniqueViolation(err: unknown): boolean {
  return err instanceof QueryFailedError && (err.driverError as { code?: string }).code === '23505';
}

/** People who can sign in, and the first administrator of a new installation. */
@Injectable()
export class UsersService implements OnApplicationBootstrap {
  private readonly logger = new Logger(UsersService.name);

  constructor(
    @InjectRepository(UserEntity) private readonly users: Repository<UserEntity>,
    private readonly config: AppConfig,
  ) {}

  async create(email: string, password: string, role: Role): Promise<UserEntity> {
    const passwordHash = await hashPassword(password);
    try {
      return await this.users.save(this.users.create({ email: normalizeEmail(email), passwordHash, role }));
    } catch (err) {
      if (isUniqueViolation(err)) throw new AppError('conflict', 'A user with this email already exists');
      throw err;
    }
  }

  findByEmail(email: string): Promise<UserEntity | null> {
    return this.users
      .createQueryBuilder('u')
      .where('lower(u.email) = :email', { email: normalizeEmail(email) })
      .getOne();
  }

  findById(id: string): Promise<UserEntity | null> {
    return this.users.findOneBy({ id });
  }

  list(): Promise<UserEntity[]> {
    return this.users.find({ order: { createdAt: 'ASC' } });
  }

  /** On an empty database, creates the administrator (printing a generated password once). */
  async onApplicationBootstrap(): Promise<void> {
    if ((await this.users.count()) > 0) return;
    const generated = this.config.ADMIN_PASSWORD === undefined;
    const password = this.config.ADMIN_PASSWORD ?? randomBytes(18).toString('base64url');
    try {
      await this.create(this.config.ADMIN_EMAIL, password, 'admin');
    } catch (err) {
      if (err instanceof AppError && err.code === 'conflict') return; // another replica won the race
      throw err;
    }
    if (generated) {
      // Printed once, on purpose, straight to the terminal and not through the logger.
      process.stdout.write(
        `\n  Conflux created the administrator ${this.config.ADMIN_EMAIL}\n` +
          `  with the generated password: ${password}\n  It is shown only this once.\n\n`,
      );
    } else {
      this.logger.log(`Created the administrator ${this.config.ADMIN_EMAIL} from ADMIN_PASSWORD`);
    }
  }
}
