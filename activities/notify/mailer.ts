// Mail transport: nodemailer over SMTP when SMTP_URL is set; otherwise each mail is written as an .eml
// file under DATA_DIR/mail, so the embedded default needs no mail server.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import nodemailer from 'nodemailer';

export interface OutgoingMail {
  from: string;
  to: string;
  subject: string;
  text: string;
  messageId: string;
}
export interface Mailer {
  describe: string;
  send(m: OutgoingMail): Promise<void>;
  close(): void;
}

export function createMailer(opts: { smtpUrl?: string; dataDir: string }): Mailer {
  if (opts.smtpUrl) {
    const transport = nodemailer.createTransport(opts.smtpUrl);
    return {
      describe: `SMTP ${new URL(opts.smtpUrl).host}`,
      send: async (m) => {
        await transport.sendMail({ ...m, textEncoding: 'base64' });
      },
      close: () => transport.close(),
    };
  }
  const dir = path.join(opts.dataDir, 'mail');
  const transport = nodemailer.createTransport({
    streamTransport: true,
    buffer: true,
    newline: 'unix',
  });
  return {
    describe: `.eml files in ${dir}`,
    send: async (m) => {
      const info = await transport.sendMail({ ...m, textEncoding: 'base64' });
      mkdirSync(dir, { recursive: true });
      writeFileSync(
        path.join(dir, `${m.messageId.replace(/[<>]/g, '').replace(/[^A-Za-z0-9@._-]/g, '_')}.eml`),
        info.message as Buffer,
      );
    },
    close: () => transport.close(),
  };
}
