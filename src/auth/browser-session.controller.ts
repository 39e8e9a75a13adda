import { Body, Controller, Delete, HttpCode, Post, Req, Res, UseGuards } from '@nestjs/common';
import {
  ApiDefaultResponse,
  ApiHeader,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Public } from '../common/auth/decorators';
import { AppError } from '../common/errors/app-error';
import { ErrorBodyDto } from '../common/http/error-body.dto';
import { AppConfig } from '../config/app-config';
import { extractCredential } from './auth.guard';
import { LoginDto, SessionTokenDto } from './dto/auth.dto';
import {
  clearedSessionCookie,
  SameSiteGuard,
  SESSION_COOKIE,
  SESSION_COOKIE_PATH,
  sessionCookie,
  sessionCookieOf,
} from './session-cookie';
import { SessionsService, TokenPair } from './sessions.service';

const COOKIE_DOC =
  `The refresh token travels only in the cookie \`${SESSION_COOKIE}\` (HttpOnly; Secure; SameSite=Strict; ` +
  `Path=${SESSION_COOKIE_PATH}). Refused with 403 when an \`Origin\` header names another origin, and with 415 ` +
  'for a POST whose Content-Type is not application/json.';

/**
 * Sign-in for the browser (the web console): the same sessions as /auth/login and /auth/refresh, with
 * the refresh token kept in an HttpOnly cookie that page scripts cannot read.
 */
@ApiTags('auth')
@Public()
@UseGuards(SameSiteGuard)
@ApiHeader({ name: 'Origin', required: false, description: 'When sent, must be this server’s own origin' })
@ApiDefaultResponse({ type: ErrorBodyDto })
@Controller(SESSION_COOKIE_PATH.slice(1))
export class BrowserSessionController {
  constructor(
    private readonly sessions: SessionsService,
    private readonly config: AppConfig,
  ) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Sign in a browser: the access token in the body, the refresh token in a cookie',
    description: COOKIE_DOC,
  })
  @ApiOkResponse({ type: SessionTokenDto, headers: { 'Set-Cookie': { description: `${SESSION_COOKIE}=…` } } })
  async login(@Body() body: LoginDto, @Res({ passthrough: true }) res: Response): Promise<SessionTokenDto> {
    return this.answer(res, await this.sessions.login(body.email, body.password));
  }

  @Post('refresh')
  @HttpCode(200)
  @ApiOperation({
    summary: 'A new access token for the session cookie, which is replaced (each refresh token is single use)',
    description: `${COOKIE_DOC} Without a valid cookie: 401 and the cookie cleared.`,
  })
  @ApiOkResponse({ type: SessionTokenDto, headers: { 'Set-Cookie': { description: `${SESSION_COOKIE}=…` } } })
  async refresh(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<SessionTokenDto> {
    const token = sessionCookieOf(req);
    try {
      if (token === null) throw new AppError('unauthorized', 'No session cookie: sign in with POST /auth/session');
      return this.answer(res, await this.sessions.refresh(token));
    } catch (err) {
      if (err instanceof AppError && err.status === 401) {
        throw new AppError(err.code, err.message, { headers: { 'Set-Cookie': clearedSessionCookie() } });
      }
      throw err;
    }
  }

  @Delete()
  @HttpCode(204)
  @ApiOperation({
    summary: 'Sign out a browser: ends the session of the cookie (and of the bearer token, if one is sent)',
    description: `${COOKIE_DOC} Always 204, the cookie cleared; an unknown cookie or token ends nothing.`,
  })
  @ApiNoContentResponse({ description: 'The session and all its tokens are revoked; the cookie is cleared' })
  async logout(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<void> {
    const token = sessionCookieOf(req);
    if (token !== null) await this.sessions.logoutByRefreshToken(token);
    const bearer = this.bearerOf(req);
    if (bearer !== null) {
      const principal = await this.sessions.authenticate(bearer).catch(() => null);
      if (principal) await this.sessions.logout(principal.sessionId);
    }
    res.setHeader('Set-Cookie', clearedSessionCookie());
  }

  private answer(res: Response, pair: TokenPair): SessionTokenDto {
    res.setHeader('Set-Cookie', sessionCookie(pair.refresh_token, this.config.REFRESH_TOKEN_TTL_SECONDS));
    res.setHeader('Cache-Control', 'no-store');
    return { access_token: pair.access_token, token_type: pair.token_type, expires_in: pair.expires_in };
  }

  private bearerOf(req: Request): string | null {
    try {
      const credential = extractCredential(req);
      return credential?.kind === 'bearer' ? credential.value : null;
    } catch {
      return null;
    }
  }
}
