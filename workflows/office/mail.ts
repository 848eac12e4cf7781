// The office's acts on a notification mail, one stream per mail (mail-<id>): retrying a dead-lettered
// one today. Pure: the mail's delivery status lives in its mail_message row (the dispatcher moves it
// on every attempt, which is no office act); the caller reads it under a row lock and brings it here.
import { assertNever, conflict } from '../errors';
import type { CommandContext } from '../program/types';

export type MailActState =
  { status: 'none' } | { status: 'retried'; mailId: number; retries: number };

export interface RetryMail {
  type: 'RetryMail';
  mailId: number;
  /** the mail_message row as it stands */
  mail: { status: string; attempts: number; lastError: string | null };
}
export type MailCommand = RetryMail;
export type MailEvent = {
  type: 'MailRetried';
  data: { mailId: number; attemptsBefore: number; lastError: string | null };
};

export function decideMail(
  _state: MailActState,
  cmd: MailCommand,
  _ctx: CommandContext,
): MailEvent[] {
  switch (cmd.type) {
    case 'RetryMail': {
      if (cmd.mail.status !== 'dead')
        throw conflict(
          'CONFLICT',
          `邮件状态为 ${cmd.mail.status}，无需重试`,
          `mail is ${cmd.mail.status}`,
        );
      return [
        {
          type: 'MailRetried',
          data: {
            mailId: cmd.mailId,
            attemptsBefore: cmd.mail.attempts,
            lastError: cmd.mail.lastError,
          },
        },
      ];
    }
    default: // one command today: narrowing by its type keeps the check
      return assertNever(cmd.type, 'command');
  }
}

export function evolveMail(state: MailActState, e: MailEvent): MailActState {
  switch (e.type) {
    case 'MailRetried':
      return {
        status: 'retried',
        mailId: e.data.mailId,
        retries: (state.status === 'retried' ? state.retries : 0) + 1,
      };
    default:
      return assertNever(e.type, 'event');
  }
}

export const mailDecider = {
  streamType: 'mail',
  initialState: { status: 'none' } as MailActState,
  decide: decideMail,
  evolve: evolveMail,
} as const;
