// Shapes shared by every custom resource we read: Kubernetes object metadata and the raw
// metav1.LabelSelector as users write it (validated and normalised by src/config/selectors.ts).

export interface KubeMetadata {
  readonly name?: string;
  readonly namespace?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly resourceVersion?: string;
  readonly generation?: number;
  readonly uid?: string;
}

export interface KubeObject<K extends string> {
  readonly apiVersion: string;
  readonly kind: K;
  readonly metadata?: KubeMetadata;
}

/** metav1.LabelSelector as written; nothing is trusted until selectors.ts has read it. */
export interface KubeSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly {
    readonly key?: string;
    readonly operator?: string;
    readonly values?: readonly string[];
  }[];
}
