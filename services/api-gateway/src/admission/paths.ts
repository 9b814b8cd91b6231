// JSON paths for error messages, spelled as Kubernetes users read them:
// "spec.containers[0].image", `metadata.labels["app"]`, `data["a b"]`.
// Map keys are quoted so that keys containing dots, spaces or brackets stay unambiguous.

export function child(path: string, field: string): string {
  return path === "" ? field : `${path}.${field}`;
}

export function index(path: string, i: number): string {
  return `${path}[${i}]`;
}

export function key(path: string, k: string): string {
  return `${path}[${JSON.stringify(k)}]`;
}
