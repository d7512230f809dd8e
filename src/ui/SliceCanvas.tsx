// The slice canvas: draws the active case's slice with one overlay (the ground truth, the evaluated prediction or the
// live prediction of the slice), handles wheel, pointer readout and window/level drag. The viewer may show two of
// them side by side.
import { useEffect, useMemo, useRef, useState } from 'react';
import { activeCase, useStore } from '../store/store.ts';
import { dragWindow, stepSlice } from '../store/actions.ts';
import { pixelToVoxel, renderSlice, sliceGeometry, voxelToWorld } from '../render/slice.ts';
import { className, paletteFor } from './classes.ts';
import type { Vec3 } from '../core/types.ts';

export interface Readout {
  voxel: Vec3;
  mm: Vec3;
  value: number;
  label?: number;
  labelName?: string;
  /** The evaluated prediction at the voxel, when the case has one and it is shown. */
  predicted?: number;
  predictedName?: string;
}

export interface SliceCanvasProps {
  onReadout: (r: Readout | null) => void;
  /** The label map drawn over the image: the case's ground truth (default) or `prediction`. */
  overlay?: 'truth' | 'prediction';
  /** The active case's evaluated label map on its canonical grid (for the overlay and the readout). */
  prediction?: Uint8Array;
  /** Largest label value to colour (over ground truth and prediction). */
  maxLabel: number;
  /** Changes when `prediction`'s content changes in place (the live slice prediction reuses its buffer). */
  predictionVersion?: unknown;
  testId?: string;
}

export function SliceCanvas({ onReadout, overlay = 'truth', prediction, maxLabel, predictionVersion, testId = 'slice-canvas' }: SliceCanvasProps) {
  const c = useStore((s) => activeCase(s));
  const axis = useStore((s) => s.axis);
  const index = useStore((s) => s.slice[s.axis]);
  const window = useStore((s) => s.window);
  const opacity = useStore((s) => s.opacity);
  const showLabel = useStore((s) => s.showLabel);
  const radiological = useStore((s) => s.radiological);
  const channel = useStore((s) => s.channel);
  const hidden = useStore((s) => s.hidden);
  const table = useStore((s) => s.classTable);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const bufferRef = useRef<{ canvas: HTMLCanvasElement; rgba?: Uint8ClampedArray }>(null);
  const drag = useRef<{ x: number; y: number } | null>(null);
  const [boxSize, setBoxSize] = useState('');

  const image = c?.image?.volume;
  const truth = c?.label?.volume.data;
  const label = overlay === 'prediction' ? prediction : truth;
  const palette = useMemo(() => paletteFor(table, maxLabel), [table, maxLabel]);
  const visible = useMemo(() => {
    const v = new Uint8Array(maxLabel + 1).fill(1);
    for (const h of hidden) if (h >= 0 && h <= maxLabel) v[h] = 0;
    return v;
  }, [hidden, maxLabel]);

  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas || !image) return;
    const t0 = performance.now();
    bufferRef.current ??= { canvas: document.createElement('canvas') };
    const buf = bufferRef.current;
    const { rgba, geometry } = renderSlice(
      { dims: image.dims, spacing: image.spacing, image: image.data, channel: Math.min(channel, image.channels - 1), window, label: showLabel ? label : undefined, palette, visible, opacity },
      { axis, radiological },
      index,
      buf.rgba,
    );
    buf.rgba = rgba;
    if (buf.canvas.width !== geometry.width || buf.canvas.height !== geometry.height) {
      buf.canvas.width = geometry.width;
      buf.canvas.height = geometry.height;
    }
    buf.canvas.getContext('2d')!.putImageData(new ImageData(rgba as Uint8ClampedArray<ArrayBuffer>, geometry.width, geometry.height), 0, 0);
    // Fit the slice into the canvas with its true millimetre aspect ratio.
    const box = canvas.getBoundingClientRect();
    const dpr = globalThis.devicePixelRatio || 1;
    const W = Math.max(1, Math.round(box.width * dpr)), H = Math.max(1, Math.round(box.height * dpr));
    if (canvas.width !== W || canvas.height !== H) { canvas.width = W; canvas.height = H; }
    const wMm = geometry.width * geometry.mmPerPixel[0], hMm = geometry.height * geometry.mmPerPixel[1];
    const scale = Math.min(W / wMm, H / hMm);
    const dw = wMm * scale, dh = hMm * scale;
    const ctx = canvas.getContext('2d')!;
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, W, H);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(buf.canvas, (W - dw) / 2, (H - dh) / 2, dw, dh);
    canvas.dataset.renderMs = (performance.now() - t0).toFixed(2);
    canvas.dataset.rect = [(W - dw) / 2 / dpr, (H - dh) / 2 / dpr, dw / dpr, dh / dpr].map((x) => x.toFixed(1)).join(',');
  }, [image, label, axis, index, window, opacity, showLabel, radiological, channel, palette, visible, boxSize, predictionVersion]);

  // Redraw when the canvas box changes size.
  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    const ro = new ResizeObserver(([e]) => setBoxSize(`${e.contentRect.width}x${e.contentRect.height}`));
    ro.observe(canvas);
    return () => ro.disconnect();
  }, [image]);

  if (!image) return null;

  const toVoxel = (e: React.PointerEvent | React.MouseEvent): Vec3 | null => {
    const canvas = canvasRef.current!;
    const [x0, y0, w, h] = (canvas.dataset.rect ?? '0,0,1,1').split(',').map(Number);
    const box = canvas.getBoundingClientRect();
    const g = sliceGeometry(image.dims, image.spacing, axis);
    const col = Math.floor(((e.clientX - box.left - x0) / w) * g.width);
    const row = Math.floor(((e.clientY - box.top - y0) / h) * g.height);
    if (col < 0 || row < 0 || col >= g.width || row >= g.height) return null;
    return pixelToVoxel(image.dims, { axis, radiological }, index, col, row);
  };

  return (
    <canvas
      ref={canvasRef}
      className="slice-canvas"
      data-testid={testId}
      data-overlay={showLabel && label ? overlay : 'none'}
      tabIndex={0}
      aria-label={`${axis} slice ${index + 1} of ${c?.id}${overlay === 'prediction' ? ', predicted labels' : ''}`}
      onWheel={(e) => stepSlice(e.deltaY > 0 ? -1 : 1)}
      onKeyDown={(e) => {
        if (e.key === 'ArrowUp' || e.key === 'PageUp') { stepSlice(1); e.preventDefault(); }
        if (e.key === 'ArrowDown' || e.key === 'PageDown') { stepSlice(-1); e.preventDefault(); }
      }}
      onContextMenu={(e) => e.preventDefault()}
      onPointerDown={(e) => {
        if (e.button === 2 || e.shiftKey) { drag.current = { x: e.clientX, y: e.clientY }; e.currentTarget.setPointerCapture(e.pointerId); }
      }}
      onPointerUp={() => { drag.current = null; }}
      onPointerLeave={() => onReadout(null)}
      onPointerMove={(e) => {
        if (drag.current) {
          dragWindow(e.clientX - drag.current.x, e.clientY - drag.current.y);
          drag.current = { x: e.clientX, y: e.clientY };
          return;
        }
        const v = toVoxel(e);
        if (!v) return onReadout(null);
        const n = image.dims[0] * image.dims[1] * image.dims[2];
        const o = v[0] + image.dims[0] * (v[1] + image.dims[1] * v[2]);
        const value = image.data[o + Math.min(channel, image.channels - 1) * n];
        const lv = truth ? truth[o] : undefined;
        const pv = prediction ? prediction[o] : undefined;
        onReadout({
          voxel: v, mm: voxelToWorld(image.affine, v), value,
          label: lv, labelName: lv !== undefined ? className(table, lv) : undefined,
          predicted: pv, predictedName: pv !== undefined ? className(table, pv) : undefined,
        });
      }}
    />
  );
}
