// The server's logger: JSON lines (pino). Bearer tokens and cookies never reach the log.
import pino, { type DestinationStream, type Logger } from 'pino';

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: undefined,
      redact: {
        paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
        censor: '[已隐藏]',
      },
    },
    destination,
  );
}
