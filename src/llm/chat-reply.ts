import type { Response } from 'express';
import type { ChatCommand, ChatOutcome, ChatUseCase, OpenStream } from './chat.usecase';
import { sendJson, sendStream, SseFrame } from './reply';

/** A chat request in one dialect: the command for ChatUseCase, and how that dialect answers. */
export interface ChatExchange {
  command: ChatCommand;
  /** The JSON body of a completed chat. */
  body(outcome: ChatOutcome): object;
  /** Set when the client asked for a stream: its frames, a cut one ending with the dialect's error event. */
  frames?: (stream: OpenStream) => AsyncIterable<SseFrame>;
}

/** Runs a chat and answers it: JSON, or SSE once the upstream's first event is in. */
export async function replyChat(chat: ChatUseCase, res: Response, exchange: ChatExchange): Promise<void> {
  if (!exchange.frames) {
    const outcome = await chat.execute(exchange.command);
    sendJson(res, outcome, exchange.body(outcome));
    return;
  }
  const stream = await chat.openStream(exchange.command);
  await sendStream(res, stream, exchange.frames(stream), stream.deadline);
}

/** Why a stream that had started ended without its completion, for the dialect's error event. */
export interface StreamFailure {
  /** The error class (`stream_cut`, `deadline_exceeded`, …), or `internal`. */
  code: string;
  message: string;
  /** True when the stream's deadline ended it (not a failure of the upstream). */
  deadline: boolean;
}

export function streamFailure(err: unknown): StreamFailure {
  const code = (err as { errorClass?: string } | null)?.errorClass ?? 'internal';
  if (code === 'deadline_exceeded') {
    return { code, message: 'The stream did not end before its deadline; what was streamed is billed', deadline: true };
  }
  return { code, message: 'The upstream stream failed before completion', deadline: false };
}
