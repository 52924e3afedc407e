// A chart drawn by Apache ECharts (only the pieces the reports use, so the bundle stays small),
// sized to its container and redrawn when the container changes size, disposed when it goes.
// The drawing is an image with an accessible name; the same figures are in a table below it, for
// screen readers and for reading exact amounts (the tests read the numbers from it).
// Only the reports page imports this module: the first screen does not carry ECharts.

import { useEffect, useRef } from "react";
import { Table } from "antd";
import * as echarts from "echarts/core";
import { BarChart, FunnelChart, LineChart, PieChart } from "echarts/charts";
import type { BarSeriesOption, FunnelSeriesOption, LineSeriesOption, PieSeriesOption } from "echarts/charts";
import { DatasetComponent, GridComponent, LegendComponent, TitleComponent, TooltipComponent } from "echarts/components";
import type {
  DatasetComponentOption,
  GridComponentOption,
  LegendComponentOption,
  TitleComponentOption,
  TooltipComponentOption,
} from "echarts/components";
import { CanvasRenderer } from "echarts/renderers";

echarts.use([
  BarChart,
  FunnelChart,
  LineChart,
  PieChart,
  DatasetComponent,
  GridComponent,
  LegendComponent,
  TitleComponent,
  TooltipComponent,
  CanvasRenderer,
]);

/** The options the console's charts may use. */
export type ChartOption = echarts.ComposeOption<
  | BarSeriesOption
  | FunnelSeriesOption
  | LineSeriesOption
  | PieSeriesOption
  | DatasetComponentOption
  | GridComponentOption
  | LegendComponentOption
  | TitleComponentOption
  | TooltipComponentOption
>;

/** The figures of a chart as a table: column headings and rows of display texts. */
export interface ChartTable {
  columns: string[];
  rows: string[][];
}

type Row = Record<string, string>;

export function Chart({
  option,
  label,
  table,
  height = 360,
  testId,
}: {
  option: ChartOption;
  /** The accessible name of the drawing and of its table. */
  label: string;
  table: ChartTable;
  height?: number;
  /** `data-testid` of the figures' table. */
  testId?: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);

  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const instance = echarts.init(element, undefined, { renderer: "canvas" });
    chart.current = instance;
    const observer = new ResizeObserver(() => instance.resize());
    observer.observe(element);
    return () => {
      observer.disconnect();
      instance.dispose();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    // Tooltips drawn on the canvas: HTML tooltips carry inline styles the gateway's
    // Content-Security-Policy refuses.
    const tooltip = option.tooltip && !Array.isArray(option.tooltip) ? option.tooltip : {};
    chart.current?.setOption({ ...option, tooltip: { ...tooltip, renderMode: "richText" } }, { notMerge: true });
  }, [option]);

  return (
    <div>
      <div ref={box} role="img" aria-label={label} style={{ width: "100%", height }} />
      <div data-testid={testId}>
        <Table<Row>
          size="small"
          pagination={false}
          rowKey="key"
          aria-label={label}
          columns={table.columns.map((title, i) => ({ title, dataIndex: String(i), key: String(i) }))}
          dataSource={table.rows.map((row, i) => ({ key: String(i), ...Object.fromEntries(row.map((cell, j) => [String(j), cell])) }))}
        />
      </div>
    </div>
  );
}
