// Domain errors: what went wrong, in Qinling's words, without HTTP. The facade maps each kind to
// a status code in one table.
export type ErrorKind = 'BadRequest' | 'NotFound' | 'Forbidden' | 'Conflict' | 'TooLarge' | 'Unavailable';

export class DomainError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
  ) {
    super(message);
  }
}

export const badRequest = (message: string) => new DomainError('BadRequest', message);
