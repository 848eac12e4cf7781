// The notifier's settings from the configuration: mail transport, the CJK font for PDF notices,
// sender, reminders and the public address links in mails point to.
import type { Logger } from 'pino';
import { createMailer } from '../activities/notify/mailer';
import { findCjkFont } from '../activities/notify/pdf';
import type { Config } from './config';
import type { NotifyOptions } from './runtime';

export function notifyOptionsFrom(
  cfg: Config,
  log: Logger,
): NotifyOptions & { mailer: { describe: string } } {
  const font = findCjkFont(cfg.PDF_FONT);
  if (!font)
    log.warn(
      'no CJK font for PDF notices: they are stored as HTML only (apt-get install fonts-noto-cjk, or set PDF_FONT)',
    );
  return {
    mailer: createMailer({ smtpUrl: cfg.SMTP_URL, dataDir: cfg.dataDir }),
    font,
    from: cfg.MAIL_FROM,
    log,
    reminderDays: cfg.REMINDER_DAYS,
    publicUrl: cfg.PUBLIC_URL ?? `http://localhost:${cfg.PORT}`,
  };
}
