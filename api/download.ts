// A file answer (exports, templates): the bytes with their type and a UTF-8 file name to save them as.
import type { Response } from 'express';

export function sendFile(res: Response, bytes: Buffer, type: string, name: string): void {
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Disposition', `attachment; filename*=UTF-8''${encodeURIComponent(name)}`);
  res.setHeader('Content-Length', String(bytes.length));
  res.status(200).end(bytes);
}
