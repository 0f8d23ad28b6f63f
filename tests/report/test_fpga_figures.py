"""The FPGA figure: a panel per resource, a line per MACS, from a fabricated ECP5 sweep."""

from report import fpga_figures, fpga_rows


def test_each_panel_draws_its_resource_per_macs(fabricated, figures):
    document = fabricated()
    fig = fpga_figures.figure(document)
    rows = fpga_rows.rows_by_macs(document)
    assert fig.get_suptitle().splitlines() == ["FPGA resources and post-route fmax against rescaler width k",
                                               "ecp5 flow: area in LUT4, delay in ns"]
    assert [(ax.get_title(), ax.get_ylabel()) for ax in fig.axes] == [(title, label) for _, title, label
                                                                      in fpga_figures.PANELS]
    for ax, (key, *_) in zip(fig.axes, fpga_figures.PANELS):
        assert ax.get_ylim()[0] == 0
        for macs, macs_rows in rows.items():
            assert figures.line(ax, f"{macs} MACS") == ([r["k"] for r in macs_rows], [r[key] for r in macs_rows])
    assert figures.legend(fig) == ["4 MACS", "8 MACS"]
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["4", "8", "16", "24", "32"]


def test_drawn_files_show_the_figure_and_redraw_byte_for_byte(tmp_path, fabricated, figures):
    assert fpga_figures.draw(fabricated(), tmp_path) == ["fpga_vs_k"]
    figures.assert_files_show(fpga_figures.figure(fabricated()), tmp_path / "fpga_vs_k", size=(1400, 1120))
    first = (tmp_path / "fpga_vs_k.svg").read_bytes()
    fpga_figures.draw(fabricated(), tmp_path)
    assert (tmp_path / "fpga_vs_k.svg").read_bytes() == first
