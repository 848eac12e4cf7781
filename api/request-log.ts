// Request ids and the access log: every request gets an id (the client's X-Request-Id, or a new UUID),
// answered in X-Request-Id and quoted in problem answers; each finished request is one pino line with
// method, URL, headers (tokens redacted by the logger), status and time. The line is built only when the
// level is enabled, so a quiet server pays for the id alone.
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';

declare module 'http' {
  interface IncomingMessage {
    id?: string;
  }
}

export function requestLog(log: Logger, skip: (url: string) => boolean = () => false) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const id = (req.headers['x-request-id'] as string | undefined) || randomUUID();
    req.id = id;
    res.setHeader('X-Request-Id', id);
    if (!skip(req.url) && log.isLevelEnabled('info')) {
      const t0 = performance.now();
      res.once('finish', () => {
        const line = {
          reqId: id,
          req: {
            method: req.method,
            url: req.originalUrl,
            headers: req.headers,
            remoteAddress: req.socket.remoteAddress,
          },
          res: { statusCode: res.statusCode },
          responseTime: Math.round(performance.now() - t0),
        };
        if (res.statusCode >= 500) log.error(line, 'request errored');
        else log.info(line, 'request completed');
      });
    }
    next();
  };
}
