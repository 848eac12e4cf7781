// The office's acts on an issued official notice, one stream per notice (notice-<id>): a correction today.
// An issued notice never changes (R-PUB-1): a correction is a new numbered notice citing it, and this
// stream records who issued it, when and why. Pure: the caller allocates the 文号 and stores the new
// notice in the same transaction and brings what it issued in the command; a refusal rolls that back.
import { assertNever, invalid } from '../errors';
import type { CommandContext } from '../program/types';

export interface NoticeCorrection {
  correctionId: number;
  docNumber: string;
}
export type NoticeActState =
  { status: 'none' } | { status: 'corrected'; noticeId: number; corrections: NoticeCorrection[] };

export interface CorrectNotice {
  type: 'CorrectNotice';
  noticeId: number;
  /** the correction notice as issued: its id, 文号, title and the SHA-256 of its stored HTML */
  correctionId: number;
  docNumber: string;
  title: string;
  sha256: string;
  text: string;
}
export type NoticeCommand = CorrectNotice;
export type NoticeEvent = {
  type: 'NoticeCorrected';
  data: {
    noticeId: number;
    correctionId: number;
    docNumber: string;
    title: string;
    text: string;
    sha256: string;
  };
};

export function decideNotice(
  _state: NoticeActState,
  cmd: NoticeCommand,
  _ctx: CommandContext,
): NoticeEvent[] {
  switch (cmd.type) {
    case 'CorrectNotice': {
      if (!cmd.text.trim())
        throw invalid('更正内容不能为空', 'a correction needs its text', 'text', 'NOTICE-INVALID');
      const { noticeId, correctionId, docNumber, title, text, sha256 } = cmd;
      return [
        {
          type: 'NoticeCorrected',
          data: { noticeId, correctionId, docNumber, title, text, sha256 },
        },
      ];
    }
    default: // one command today: narrowing by its type keeps the check
      return assertNever(cmd.type, 'command');
  }
}

export function evolveNotice(state: NoticeActState, e: NoticeEvent): NoticeActState {
  switch (e.type) {
    case 'NoticeCorrected': {
      const c = { correctionId: e.data.correctionId, docNumber: e.data.docNumber };
      return {
        status: 'corrected',
        noticeId: e.data.noticeId,
        corrections: [...(state.status === 'corrected' ? state.corrections : []), c],
      };
    }
    default:
      return assertNever(e.type, 'event');
  }
}

export const noticeDecider = {
  streamType: 'notice',
  initialState: { status: 'none' } as NoticeActState,
  decide: decideNotice,
  evolve: evolveNotice,
} as const;
