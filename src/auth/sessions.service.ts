import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { JwtService, TokenExpiredError } from '@nestjs/jwt';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { isUUID } from 'class-validator';
import { DataSource, IsNull, Repository } from 'typeorm';
import type { UserPrincipal } from '../common/auth/principal';
import { AppError } from '../common/errors/app-error';
import { waitAtMost } from '../common/with-timeout';
import { AppConfig } from '../config/app-config';
import { RefreshTokenEntity, SessionEntity, UserEntity } from './entities';
import { verifyPassword } from './passwords';
import { generateRefreshToken, sha256Hex } from './secrets';
import { UsersService } from './users.service';

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: 'Bearer';
  expires_in: number;
}

interface AccessClaims {
  sub: string;
  sid: string;
  typ: 'access';
  /** Set by the signer (expiresIn); a token without it would never expire, so it is refused. */
  exp?: number;
}

/** The claims of a verified token are used only when they have the shapes we sign. */
function wellFormed(claims: AccessClaims): boolean {
  return (
    claims.typ === 'access' &&
    typeof claims.exp === 'number' &&
    Number.isFinite(claims.exp) &&
    isUUID(claims.sid, 'all') &&
    isUUID(claims.sub, 'all')
  );
}

/**
 * Sign-in sessions: a short-lived access JWT plus a single-use refresh token.
 * Presenting an already-used refresh token revokes the whole session (token reuse
 * means it was stolen, or the client is broken).
 */
@Injectable()
export class SessionsService {
  constructor(
    @InjectRepository(SessionEntity) private readonly sessions: Repository<SessionEntity>,
    @InjectRepository(RefreshTokenEntity) private readonly refreshTokens: Repository<RefreshTokenEntity>,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly users: UsersService,
    private readonly jwt: JwtService,
    private readonly config: AppConfig,
  ) {}

  async login(email: string, password: string): Promise<TokenPair> {
    const user = await this.users.findByEmail(email);
    if (!(await verifyPassword(user?.passwordHash, password)) || !user) {
      throw new AppError('invalid_credentials', 'Invalid email or password');
    }
    const session = await this.sessions.save(
      this.sessions.create({
        userId: user.id,
        expiresAt: new Date(Date.now() + this.config.REFRESH_TOKEN_TTL_SECONDS * 1000),
        revokedAt: null,
        revokedReason: null,
      }),
    );
    return this.issue(user, session);
  }

  async refresh(refreshToken: string): Promise<TokenPair> {
    const invalid = new AppError('invalid_token', 'Invalid or expired refresh token');
    const token = await this.refreshTokens.findOneBy({ tokenHash: sha256Hex(refreshToken) });
    if (!token) throw invalid;
    const session = await this.sessions.findOneBy({ id: token.sessionId });
    if (!session || session.revokedAt || session.expiresAt <= new Date() || token.expiresAt <= new Date()) {
      throw invalid;
    }
    // Claim the token atomically: of two concurrent uses, exactly one wins.
    const claimed = await this.refreshTokens.update({ id: token.id, usedAt: IsNull() }, { usedAt: new Date() });
    if (!claimed.affected) {
      await this.revoke(session.id, 'refresh_reuse');
      throw new AppError('invalid_token', 'Refresh token reuse detected: the session has been revoked');
    }
    const user = await this.users.findById(session.userId);
    if (!user) throw invalid;
    return this.issue(user, session);
  }

  async logout(sessionId: string): Promise<void> {
    await this.revoke(sessionId, 'logout');
  }

  /** Ends the session a refresh token belongs to (used or not); an unknown token ends nothing. */
  async logoutByRefreshToken(refreshToken: string): Promise<void> {
    const token = await this.refreshTokens.findOneBy({ tokenHash: sha256Hex(refreshToken) });
    if (token) await this.revoke(token.sessionId, 'logout');
  }

  /**
   * Verifies an access JWT (signature, algorithm, iss, aud, exp which must be present, nbf when present)
   * and that its session is live. Header fields such as `kid`, `jku` or `jwk` are ignored: the key and
   * the algorithm are fixed by the configuration.
   */
  async authenticate(accessToken: string): Promise<UserPrincipal> {
    let claims: AccessClaims;
    try {
      claims = await this.jwt.verifyAsync<AccessClaims>(accessToken);
    } catch (err) {
      if (err instanceof TokenExpiredError) throw new AppError('token_expired', 'Access token expired');
      throw new AppError('invalid_token', 'Invalid access token');
    }
    if (!wellFormed(claims)) throw new AppError('invalid_token', 'Invalid access token');
    const row = await waitAtMost(
      this.dataSource
        .createQueryBuilder()
        .select(['u.id AS id', 'u.email AS email', 'u.role AS role'])
        .from(SessionEntity, 's')
        .innerJoin(UserEntity, 'u', 'u.id = s.user_id')
        .where('s.id = :sid AND s.user_id = :sub AND s.revoked_at IS NULL AND s.expires_at > now()', {
          sid: claims.sid,
          sub: claims.sub,
        })
        .getRawOne<{ id: string; email: string; role: UserPrincipal['role'] }>(),
      this.config.DATABASE_HOT_PATH_TIMEOUT_MS,
      'session check',
    );
    if (!row) throw new AppError('invalid_token', 'Session has ended');
    return { kind: 'user', userId: row.id, email: row.email, role: row.role, sessionId: claims.sid };
  }

  private async revoke(sessionId: string, reason: string): Promise<void> {
    await this.sessions.update(
      { id: sessionId, revokedAt: IsNull() },
      { revokedAt: new Date(), revokedReason: reason },
    );
  }

  private async issue(user: UserEntity, session: SessionEntity): Promise<TokenPair> {
    const { token, hash } = generateRefreshToken();
    await this.refreshTokens.insert({
      sessionId: session.id,
      tokenHash: hash,
      expiresAt: session.expiresAt,
      usedAt: null,
    });
    const claims: AccessClaims = { sub: user.id, sid: session.id, typ: 'access' };
    const access = await this.jwt.signAsync(claims, { jwtid: randomUUID() });
    return {
      access_token: access,
      refresh_token: token,
      token_type: 'Bearer',
      expires_in: this.config.JWT_ACCESS_TTL_SECONDS,
    };
  }
}
