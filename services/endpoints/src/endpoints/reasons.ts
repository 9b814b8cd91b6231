// Event reasons of the endpoints controller (Kubernetes' names), recorded on the Service.

/** Writing the Endpoints failed for another reason than a lost compare-and-swap race. */
export const FailedToCreateEndpoint = "FailedToCreateEndpoint";
export const FailedToUpdateEndpoint = "FailedToUpdateEndpoint";

/** The component named in those Events (source.component). */
export const EVENT_COMPONENT = "endpoint-controller";
