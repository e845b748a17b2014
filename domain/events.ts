// What a reconcile pass wants recorded as Kubernetes Events on the job.
export interface PlannedEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}
